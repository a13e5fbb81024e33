"""The W&B logger, against a stand-in `wandb` module (tests never start W&B): probe curves land in
their own chart sections, the baselines in the summary, every other key as it is."""

import sys
import types

from minigen.tracking import WandbLogger, baseline_summary, chart_key


class FakeRun:
    def __init__(self):
        self.logged, self.summary = [], {}

    def log(self, metrics, step):
        self.logged.append((step, metrics))

    def finish(self):
        pass


def test_probe_curves_get_sections_and_baselines_go_to_the_summary(tmp_path, monkeypatch):
    run = FakeRun()
    fake = types.SimpleNamespace(init=lambda **kw: run)
    monkeypatch.setitem(sys.modules, "wandb", fake)
    logger = WandbLogger("offline", tmp_path, {}, "r")
    logger.log({"loss": 2.0, "heldout_loss": 1.9, "probe_reversal": 0.9, "probe_reversal_same": 1.0,
                "probe_gen_local_valid": 0.5}, step=250)
    assert run.logged == [(250, {"loss": 2.0, "heldout_loss": 1.9, "probe/reversal": 0.9,
                                 "probe/reversal_same": 1.0, "probe_gen/local_valid": 0.5})]
    logger.summary(baseline_summary({"reversal": {"chance": 0.5, "flip": 1.0}, "people": {"chance": 0.25}}))
    assert run.summary == {"baseline/reversal/chance": 0.5, "baseline/reversal/flip": 1.0,
                           "baseline/people/chance": 0.25}
    assert chart_key("probes_seen") == "probes_seen" and chart_key("probe_process_gen") == "probe/process_gen"
