"""Sweep files in the W&B sweep schema: strict validation, grid expansion, seeded random sampling,
and the command-line macros (${args}, ${program} ...) exactly as `wandb agent` fills them in.

A sweep file works both here (`minigen sweep FILE`) and on W&B (`wandb sweep FILE`, `wandb agent ID`):
W&B's controller needs its server for `bayes`; grid and random are expanded locally, the same way.
Everything a user can get wrong is a `UserError` that names the field, raised before any run starts.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from minigen.errors import UserError

TOP_LEVEL = ("program", "command", "method", "parameters", "metric", "run_cap", "name", "description",
             "project", "entity", "early_terminate")
METHODS = ("grid", "random", "bayes")
PARAM_FIELDS = ("value", "values", "distribution", "min", "max", "mu", "sigma", "q", "a", "b",
                "probabilities", "parameters")
METRIC_FIELDS = ("name", "goal", "target")
# W&B's distributions and the fields each needs (besides `distribution`).
DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "constant": ("value",),
    "categorical": ("values",),
    "int_uniform": ("min", "max"),
    "uniform": ("min", "max"),
    "q_uniform": ("min", "max"),
    "log_uniform": ("min", "max"),
    "log_uniform_values": ("min", "max"),
    "q_log_uniform": ("min", "max"),
    "q_log_uniform_values": ("min", "max"),
    "inv_log_uniform": ("min", "max"),
    "inv_log_uniform_values": ("min", "max"),
    "normal": (),
    "q_normal": (),
    "log_normal": (),
    "q_log_normal": (),
    "beta": (),
    "q_beta": (),
}
DISCRETE = ("constant", "categorical", "int_uniform")  # the ones a grid can enumerate
DEFAULT_COMMAND = ["${env}", "${interpreter}", "${program}", "${args}"]
ARG_MACROS = ("args", "args_no_hyphens", "args_no_boolean_flags", "args_json", "args_no_equals")
ENVVAR_MACRO = re.compile(r"\$\{envvar:([A-Za-z0-9_]*)\}")


@dataclass
class Param:
    """One parameter of the search space; a nested one (`parameters:`) has children instead."""

    name: str
    distribution: str = "constant"
    spec: dict = field(default_factory=dict)
    children: list[Param] | None = None
    path: str = ""  # where it sits in the file, for error messages: parameters.ft.parameters.lr


@dataclass
class Sweep:
    name: str
    method: str
    params: list[Param]
    command: list[str]
    program: str | None = None
    metric: dict | None = None
    run_cap: int | None = None
    description: str = ""
    project: str | None = None
    raw: dict = field(default_factory=dict)


def load_sweep(path: Path) -> Sweep:
    """Read and validate a sweep file (YAML or JSON)."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise UserError(f"sweep file {path} does not exist; pass a YAML file in the W&B sweep schema")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}: {getattr(e, 'problem', '') or 'syntax error'})" if mark else ""
        raise UserError(f"{path} is not valid YAML{where}; a sweep file is a YAML mapping") from None
    return parse_sweep(raw, default_name=path.stem)


def parse_sweep(raw: Any, default_name: str = "sweep") -> Sweep:
    if not isinstance(raw, dict):
        raise UserError("a sweep file must be a YAML mapping with `method`, `parameters` and "
                        "`program`/`command`")
    for key in raw:
        if key not in TOP_LEVEL:
            raise UserError(f"unknown sweep field {key!r}; W&B sweep fields are: {', '.join(TOP_LEVEL)}")
    method = raw.get("method")
    if method not in METHODS:
        what = "is missing" if method is None else f"{method!r} is not a search method"
        raise UserError(f"method: {what}; use grid or random "
                        "(bayes needs the W&B server: `wandb sweep FILE` then `wandb agent ID`)")
    if method == "bayes":
        raise UserError("method: bayes needs the W&B sweep server; run it with `wandb sweep FILE` then "
                        "`wandb agent ID`, or use grid / random locally")
    params = raw.get("parameters")
    if not isinstance(params, dict) or not params:
        raise UserError("parameters: must be a non-empty mapping of parameter name -> "
                        "{value|values|distribution}")
    parsed = [_parse_param(f"parameters.{name}", name, spec) for name, spec in params.items()]
    if method == "grid":
        for p in _leaves(parsed):
            if p.distribution not in DISCRETE:
                raise UserError(f"{p.path}: grid search needs `values`, `value` or int_uniform "
                                f"(distribution {p.distribution} is continuous); use method: random")
    command, program = _parse_command(raw)
    return Sweep(name=str(raw.get("name") or default_name), method=method, params=parsed, command=command,
                 program=program, metric=_parse_metric(raw.get("metric")), run_cap=_parse_run_cap(raw),
                 description=str(raw.get("description") or ""), project=raw.get("project"), raw=raw)


def _parse_param(where: str, name: str, spec: Any) -> Param:
    if not isinstance(spec, dict):
        raise UserError(f"{where}: must be a mapping such as {{values: [1, 2]}} or {{value: 1}}; "
                        f"got {spec!r}")
    for key in spec:
        if key not in PARAM_FIELDS:
            raise UserError(f"{where}: unknown field {key!r}; parameter fields are: "
                            f"{', '.join(PARAM_FIELDS)}")
    if "parameters" in spec:
        children = spec["parameters"]
        if len(spec) != 1 or not isinstance(children, dict) or not children:
            raise UserError(f"{where}.parameters: a nested parameter holds only a non-empty "
                            "`parameters` mapping")
        kids = [_parse_param(f"{where}.parameters.{k}", k, v) for k, v in children.items()]
        return Param(name, children=kids, path=where)
    dist = spec.get("distribution") or _infer_distribution(where, spec)
    if dist not in DISTRIBUTIONS:
        raise UserError(f"{where}.distribution: {dist!r} is unknown; use one of {', '.join(DISTRIBUTIONS)}")
    for key in DISTRIBUTIONS[dist]:
        if key not in spec:
            raise UserError(f"{where}.{key}: distribution {dist} needs `{key}`")
    spec = dict(spec)
    for key in ("min", "max", "mu", "sigma", "q", "a", "b"):
        if key in spec:
            spec[key] = _number(f"{where}.{key}", spec[key])
    if dist == "categorical":
        _check_values(where, spec)
    if "min" in spec and "max" in spec and spec["min"] > spec["max"]:
        raise UserError(f"{where}.min: {spec['min']} is above max {spec['max']}")
    if dist.endswith("_values") and spec["min"] <= 0:
        raise UserError(f"{where}.min: {dist} needs min > 0 (it samples the logarithm); got {spec['min']}")
    if dist == "int_uniform" and not all(float(spec[k]).is_integer() for k in ("min", "max")):
        raise UserError(f"{where}.min: int_uniform needs integer min and max")
    return Param(name, dist, spec, path=where)


def _infer_distribution(where: str, spec: dict) -> str:
    # W&B's rule: values -> categorical, value -> constant, integer min/max -> int_uniform, else uniform.
    if "values" in spec:
        return "categorical"
    if "value" in spec:
        return "constant"
    if "min" in spec and "max" in spec:
        kinds = {type(spec["min"]), type(spec["max"])}
        if kinds == {int}:
            return "int_uniform"
        if kinds == {float}:
            return "uniform"
        raise UserError(f"{where}: min and max are ambiguous; write both as floats (uniform) or both as "
                        "integers (int_uniform), or give a `distribution`")
    raise UserError(f"{where}: give `value`, `values`, `min`+`max`, or a `distribution`")


def _check_values(where: str, spec: dict) -> None:
    values = spec["values"]
    if not isinstance(values, list) or not values:
        raise UserError(f"{where}.values: must be a non-empty list")
    probs = spec.get("probabilities")
    if probs is not None:
        if not isinstance(probs, list) or len(probs) != len(values):
            raise UserError(f"{where}.probabilities: need one probability per value ({len(values)})")
        probs = [_number(f"{where}.probabilities", p) for p in probs]
        if any(p < 0 for p in probs) or abs(sum(probs) - 1.0) > 1e-6:
            raise UserError(f"{where}.probabilities: must be >= 0 and sum to 1; got {probs}")
        spec["probabilities"] = probs


def _number(where: str, value: Any) -> float | int:
    if isinstance(value, bool):
        raise UserError(f"{where}: expected a number, got {value!r}")
    if isinstance(value, (int, float)):
        return value
    try:  # YAML 1.1 reads 1e-3 (no dot) as a string
        return float(value)
    except (TypeError, ValueError):
        raise UserError(f"{where}: expected a number, got {value!r}") from None


def _parse_metric(metric: Any) -> dict | None:
    if metric is None:
        return None
    if not isinstance(metric, dict) or "name" not in metric:
        raise UserError("metric: must be a mapping {name: METRIC, goal: maximize|minimize}")
    for key in metric:
        if key not in METRIC_FIELDS:
            raise UserError(f"metric: unknown field {key!r}; metric fields are: {', '.join(METRIC_FIELDS)}")
    goal = metric.get("goal", "minimize")
    if goal not in ("maximize", "minimize"):
        raise UserError(f"metric.goal: {goal!r} is not maximize or minimize")
    out = {"name": str(metric["name"]), "goal": goal}
    if "target" in metric:
        out["target"] = metric["target"]
    return out


def _parse_run_cap(raw: dict) -> int | None:
    cap = raw.get("run_cap")
    if cap is None:
        if raw.get("method") == "random":
            raise UserError("run_cap: random search needs run_cap locally "
                            "(W&B's server would sample forever)")
        return None
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
        raise UserError(f"run_cap: must be a positive integer; got {cap!r}")
    return cap


def _parse_command(raw: dict) -> tuple[list[str], str | None]:
    program = raw.get("program")
    if program is not None and not isinstance(program, str):
        raise UserError(f"program: must be a string (a script or a command name); got {program!r}")
    command = raw.get("command", DEFAULT_COMMAND)
    if not isinstance(command, list) or not command or not all(isinstance(c, (str, int, float))
                                                                for c in command):
        raise UserError("command: must be a non-empty list of strings, e.g. [minigen, run, ${args}]")
    command = [str(c) for c in command]
    if "${program}" in command and not program:
        raise UserError("program: the command uses ${program} but the sweep file gives no program")
    for c in command:
        if c.startswith("${") and c.endswith("}") and not ENVVAR_MACRO.fullmatch(c):
            if c[2:-1] not in (*ARG_MACROS, "env", "interpreter", "program"):
                raise UserError(f"command: unknown macro {c}; W&B macros are ${{env}}, ${{interpreter}}, "
                                "${program}, ${args}, ${args_no_hyphens}, ${args_no_boolean_flags}, "
                                "${args_json}")
    return command, program


def _leaves(params: list[Param]) -> list[Param]:
    out = []
    for p in params:
        out.extend(_leaves(p.children) if p.children is not None else [p])
    return out


# ---- expanding the search space into runs ---------------------------------------------------------

def grid_values(p: Param) -> list[Any]:
    if p.distribution == "constant":
        return [p.spec["value"]]
    if p.distribution == "categorical":
        return list(p.spec["values"])
    return list(range(int(p.spec["min"]), int(p.spec["max"]) + 1))  # int_uniform


def _grid(params: list[Param]) -> list[dict]:
    axes = []
    for p in params:
        axes.append([{p.name: v} for v in (_grid(p.children) if p.children is not None else grid_values(p))])
    return [{k: v for d in combo for k, v in d.items()} for combo in itertools.product(*axes)]


def sample_value(p: Param, rng: random.Random) -> Any:
    s, d = p.spec, p.distribution
    if d == "constant":
        return s["value"]
    if d == "categorical":
        return rng.choices(s["values"], weights=s.get("probabilities"))[0]
    if d == "int_uniform":
        return rng.randint(int(s["min"]), int(s["max"]))
    lo, hi, q = s.get("min"), s.get("max"), s.get("q", 1)
    if d in ("uniform", "q_uniform"):
        x = rng.uniform(lo, hi)
    elif d in ("log_uniform", "q_log_uniform"):  # min/max are natural logs of the bounds
        x = math.exp(rng.uniform(lo, hi))
    elif d in ("log_uniform_values", "q_log_uniform_values", "inv_log_uniform_values"):
        x = math.exp(rng.uniform(math.log(lo), math.log(hi)))
    elif d == "inv_log_uniform":
        x = math.exp(-rng.uniform(lo, hi))
    elif d in ("normal", "q_normal"):
        x = rng.gauss(s.get("mu", 0.0), s.get("sigma", 1.0))
    elif d in ("log_normal", "q_log_normal"):
        x = rng.lognormvariate(s.get("mu", 0.0), s.get("sigma", 1.0))
    else:
        assert d in ("beta", "q_beta"), d
        x = rng.betavariate(s.get("a", 1.0), s.get("b", 1.0))
    if d.startswith("q_"):
        x = round(x / q) * q
        return int(x) if float(q).is_integer() else x
    return x


def _sample(params: list[Param], rng: random.Random) -> dict:
    return {p.name: _sample(p.children, rng) if p.children is not None else sample_value(p, rng)
            for p in params}


def expand(sweep: Sweep, seed: int = 0) -> list[dict]:
    """The runs' parameters: the whole grid (in file order) or `run_cap` distinct random samples."""
    if sweep.method == "grid":
        runs = _grid(sweep.params)
        return runs[: sweep.run_cap] if sweep.run_cap else runs
    rng = random.Random(seed)
    runs, seen = [], set()
    for _ in range(sweep.run_cap * 100):  # duplicates (small categorical spaces) are drawn again
        params = _sample(sweep.params, rng)
        key = json.dumps(params, sort_keys=True)
        if key not in seen:
            seen.add(key)
            runs.append(params)
        if len(runs) == sweep.run_cap:
            break
    return runs


# ---- the command line of one run ------------------------------------------------------------------

def arg_macros(params: dict) -> dict[str, list[str]]:
    """${args}-style macros, formatted the way `wandb agent` formats them (Python str of each value)."""
    flags, no_hyphens, no_bool, no_equals = [], [], [], []
    for name, value in params.items():
        flags.append(f"--{name}={value}")
        no_hyphens.append(f"{name}={value}")
        no_equals += [f"--{name}", str(value)]
        if isinstance(value, bool):
            no_bool += [f"--{name}"] if value else []
        else:
            no_bool.append(f"--{name}={value}")
    return {"args": flags, "args_no_hyphens": no_hyphens, "args_no_boolean_flags": no_bool,
            "args_json": [json.dumps(params)], "args_no_equals": no_equals}


def build_command(sweep: Sweep, params: dict, interpreter: str, env: dict | None = None) -> list[str]:
    """The run's argv: whole-element macros replaced by their lists, ${envvar:NAME} by the variable."""
    env = os.environ if env is None else env
    macros = {**arg_macros(params), "env": ["/usr/bin/env"], "interpreter": [interpreter],
              "program": [sweep.program or ""]}
    argv: list[str] = []
    for chunk in sweep.command:
        chunk = ENVVAR_MACRO.sub(lambda m: env.get(m.group(1), m.group(1)), chunk)
        if chunk.startswith("${") and chunk.endswith("}") and chunk[2:-1] in macros:
            argv += macros[chunk[2:-1]]
        else:
            argv.append(chunk)
    return argv


def runs_minigen(command: list[str]) -> bool:
    """Whether the command is `minigen run ...` (then its parameter names and values can be checked)."""
    names = [os.path.basename(c) for c in command]
    return any(a == "minigen" and b == "run" for a, b in zip(names, names[1:], strict=False))


def run_id(params: dict, shown: list[str] | None = None) -> str:
    """A deterministic, readable id of a run: the values of the `shown` parameters (default: all;
    a sweep shows the ones it varies) and a hash of all its parameters."""
    digest = hashlib.sha1(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:8]
    flat = _flatten(params)
    keys = sorted(flat) if shown is None else [k for k in shown if k in flat]
    slug = "-".join(re.sub(r"[^A-Za-z0-9.+-]+", "+", str(flat[k])).strip("+") for k in keys)
    return f"{slug[:48].rstrip('-+')}-{digest}" if slug else digest


def varied(sweep: Sweep) -> list[str]:
    """The (dotted) names of the parameters that can take more than one value, in file order."""
    def names(params: list[Param], prefix: str) -> list[str]:
        out = []
        for p in params:
            if p.children is not None:
                out += names(p.children, f"{prefix}{p.name}.")
            elif p.distribution != "constant" and not (p.distribution == "categorical"
                                                       and len(p.spec["values"]) == 1):
                out.append(prefix + p.name)
        return out
    return names(sweep.params, "")


def _flatten(params: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in params.items():
        out.update(_flatten(v, f"{prefix}{k}.") if isinstance(v, dict) else {prefix + k: v})
    return out
