"""Output paths are checked at the edge: a file where a directory should be (or a directory where a
file should be, or a path under a file) is one line on stderr and exit code 2, before any work."""

import pytest

from minigen.cli import main


@pytest.mark.parametrize("argv", [
    ["pretrain", "--out", "FILE", "--steps", "1"],
    ["pretrain", "--out", "FILE/run", "--steps", "1"],
    ["compare", "--split", "syllogism", "--ckpt", "RUN", "--out", "FILE", "--wandb", "disabled"],
    ["augment", "--split", "syllogism", "--strategy", "oracle-local", "--out", "DIR"],
    ["augment", "--split", "syllogism", "--strategy", "oracle-local", "--out", "FILE/aug.jsonl"],
    ["data", "export", "syllogism", "--out", "FILE"],
    ["data", "export", "corpus", "--tokens", "10", "--out", "DIR"],
    ["data", "export", "corpus", "--tokens", "10", "--out", "FILE/corpus.txt"],
])
def test_an_output_path_that_cannot_be_written_is_one_line(argv, run_dir, tmp_path, capsys):
    (tmp_path / "file").write_text("keep me\n")
    (tmp_path / "dir").mkdir()
    argv = [a.replace("FILE", str(tmp_path / "file")).replace("DIR", str(tmp_path / "dir"))
            .replace("RUN", str(run_dir)) for a in argv]
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    assert (tmp_path / "file").read_text() == "keep me\n"  # nothing already written is lost
