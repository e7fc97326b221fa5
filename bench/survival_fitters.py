"""Our survival estimators (dashboard.domain.km / cox / competing_risks) against lifelines' fitters: first
lifelines' distance from R on every R fixture of tests/domain, then, at 1,000 / 10,000 / 100,000 patients,
time and largest absolute difference of the code lifelines would replace against lifelines on the same
prepared arrays (ours: km._km_curve per arm, cox._logrank, cox._cox_fit; competing_risks.cumulative_incidence
whole). Times are median CPU milliseconds of alternating runs (the machine is shared; wall time follows CPU
time when it is idle); the public functions' own time (input checks, copy, ids, CIs) is printed too.

    .venv/bin/python bench/survival_fitters.py [--sizes 1000,10000,100000] [--repeat 5] [--seed 7]

Data: synthetic exponential survival (5:2 UC-MSC vs Placebo, placebo hazard 0.003/day, HR 0.7, uniform
administrative censoring to two years, transplant competing at 10 % of events), times rounded up to whole
days as the trial records them, so there are many ties (Efron). The tests require R equality to 1e-6
(tests/domain, DESIGN §5) and the survival page's KM + log-rank + Cox under about 0.3 s at 100,000 patients.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from lifelines import AalenJohansenFitter, CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test

from dashboard.domain.competing_risks import cumulative_incidence
from dashboard.domain.cox import _cox_fit, _logrank, cox_hr, logrank_test
from dashboard.domain.km import _km_curve, _prepare, km_estimate

ARMS = ("UC-MSC", "Placebo")
TIGHT = {"precision": 1e-20, "r_precision": 1e-20}  # lifelines' Newton run to the end (R to 1e-6 needs it)


def trial(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.where(rng.random(n) < 5 / 7, ARMS[0], ARMS[1])
    hazard = 0.003 * np.where(arm == ARMS[0], 0.7, 1.0)
    t_event = rng.exponential(1 / hazard)
    t_censor = rng.uniform(30, 730, n)
    time_days = np.ceil(np.minimum(t_event, t_censor))
    event = (t_event <= t_censor).astype(int)
    event_type = np.where(event == 1, np.where(rng.random(n) < 0.1, 2, 1), 0)
    return pd.DataFrame({"usubjid": [f"S{i:06d}" for i in range(n)], "time_days": time_days, "event": event,
                         "arm": arm, "event_type": event_type})


def paired(ours, theirs, repeat: int):
    """Median CPU seconds and last result of each, runs alternating so that a busy machine slows both alike."""
    ours(), theirs()
    times: dict[int, list[float]] = {0: [], 1: []}
    out = [None, None]
    for _ in range(repeat):
        for k, func in enumerate((ours, theirs)):
            start = time.process_time()
            out[k] = func()
            times[k].append(time.process_time() - start)
    return statistics.median(times[0]), out[0], statistics.median(times[1]), out[1]


def alone(func, repeat: int) -> float:
    return paired(func, lambda: None, repeat)[0]


def arrays(df: pd.DataFrame) -> dict[str, np.ndarray]:
    data, _ = _prepare("bench", df, "arm", ARMS)
    return {"time": data["time_days"].to_numpy(float), "event": data["event"].to_numpy(int),
            "group": data["group"].to_numpy(), "etype": df.loc[data.index, "event_type"].to_numpy(int)}


def km_rows(df: pd.DataFrame, a: dict, repeat: int) -> list[tuple]:
    def ours():
        out = {}
        for g in ARMS:
            m = a["group"] == g
            order = np.argsort(a["time"][m], kind="stable")
            out[g] = _km_curve(a["time"][m][order], a["event"][m][order])
        return out

    def theirs():
        return {g: KaplanMeierFitter().fit(a["time"][a["group"] == g], a["event"][a["group"] == g]) for g in ARMS}

    ours_s, curves, theirs_s, fits = paired(ours, theirs, repeat)
    d_surv = d_se = 0.0
    for g, kmf in fits.items():
        c = curves[g]
        surv = kmf.survival_function_.iloc[:, 0].reindex(c["time"]).to_numpy()
        # lifelines keeps the Greenwood sum (its log-log CI's variance) only as an attribute.
        logse = np.sqrt(kmf._cumulative_sq_.reindex(c["time"]).to_numpy())
        d_surv = max(d_surv, float(np.abs(surv - c["survival"]).max()))
        d_se = max(d_se, float(np.nanmax(np.abs(surv * logse - c["survival"] * c["logse"]))))
    public_s = alone(lambda: km_estimate(df, group_col="arm", groups=ARMS), repeat)
    return [("KM survival (_km_curve, 2 arms)", ours_s, theirs_s, d_surv),
            ("KM Greenwood SE", ours_s, theirs_s, d_se),
            ("  km_estimate (public: + ids, CI, medians)", public_s, math.nan, math.nan)]


def logrank_rows(df: pd.DataFrame, a: dict, repeat: int) -> list[tuple]:
    member = np.stack([a["group"] == g for g in ARMS])
    ours_s, ours, theirs_s, theirs = paired(lambda: _logrank(a["time"], a["event"], member),
                                            lambda: multivariate_logrank_test(a["time"], a["group"], a["event"]),
                                            repeat)
    public_s = alone(lambda: logrank_test(df, group_col="arm", groups=ARMS), repeat)
    return [("log-rank chi2 (_logrank)", ours_s, theirs_s, abs(ours[0] - theirs.test_statistic)),
            ("  logrank_test (public)", public_s, math.nan, math.nan)]


def cox_rows(df: pd.DataFrame, a: dict, repeat: int) -> list[tuple]:
    x = (a["group"] == ARMS[0]).astype(float)[:, None]
    frame = pd.DataFrame({"T": a["time"], "E": a["event"], "active": x[:, 0]})
    rows = []
    for label, options in (("default", None), ("tight", TIGHT)):
        ours_s, fit, theirs_s, cph = paired(lambda: _cox_fit(x, a["time"], a["event"]),
                                            lambda: CoxPHFitter().fit(frame, "T", "E", fit_options=options), repeat)
        hr, se = float(np.exp(fit.beta[0])), float(np.sqrt(fit.cov[0, 0]))
        rows += [(f"Cox HR (_cox_fit; lifelines {label})", ours_s, theirs_s,
                  abs(hr - float(cph.hazard_ratios_["active"]))),
                 (f"Cox SE (lifelines {label})", ours_s, theirs_s, abs(se - float(cph.standard_errors_["active"])))]
    public_s = alone(lambda: cox_hr(df, group_col="arm", reference=ARMS[1], groups=ARMS), repeat)
    return rows + [("  cox_hr (public)", public_s, math.nan, math.nan)]


def cif_rows(df: pd.DataFrame, a: dict, repeat: int) -> list[tuple]:
    def theirs():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Tied event times were detected": lifelines jitters them
            return {g: AalenJohansenFitter(seed=1).fit(a["time"][a["group"] == g], a["etype"][a["group"] == g],
                                                        event_of_interest=1) for g in ARMS}

    ours_s, ours, theirs_s, fits = paired(lambda: cumulative_incidence(df, group_col="arm", groups=ARMS), theirs,
                                          repeat)
    diff = 0.0
    for g, ajf in fits.items():
        t = ours.table[ours.table["group"] == g]
        cif = ajf.cumulative_density_.iloc[:, 0]
        # their (jittered) curve read at our times, as a step function
        at = cif.reindex(cif.index.union(t["time"])).ffill().reindex(t["time"])
        diff = max(diff, float(np.abs(at.to_numpy() - t["cif"].to_numpy()).max()))
    return [("Aalen-Johansen CIF (public; ties jittered)", ours_s, theirs_s, diff)]


REF = Path(__file__).resolve().parents[1] / "tests" / "domain" / "reference"
# R fixture -> (groups, reference) as tests/domain uses them.
COX_FIXTURES = {"lung": ("Female", "Male"), "veteran": ("smallcell", "adeno", "large", "squamous"),
                "ties_cr": ("UC-MSC", "Placebo"), "demo_os": ("UC-MSC", "Placebo"), "event_free": ("B", "A"),
                "monotone": ("B", "D", "A")}
LOGRANK_FIXTURES = ("lung", "veteran", "ties_cr", "demo_os", "event_free", "never_at_risk")


def _fixture(name: str, what: str) -> pd.DataFrame:
    return pd.read_csv(REF / f"{name}_{what}.csv")


def lifelines_vs_r() -> list[tuple[str, str, float]]:
    """lifelines' largest absolute difference from R's numbers in each R fixture of tests/domain."""
    rows = []
    for name in ("lung", "veteran", "ties_cr", "demo_os"):
        d, r = _fixture(name, "data"), _fixture(name, "km").query("conf_type == 'log-log' and group != 'All patients'")
        worst = 0.0
        fits = {g: KaplanMeierFitter().fit(p["time_days"], p["event"]) for g, p in d.groupby("arm")}
        for g, kmf in fits.items():
            t = r[r["group"] == g].set_index("time")
            surv = kmf.survival_function_.iloc[:, 0].reindex(t.index)
            se = surv * np.sqrt(kmf._cumulative_sq_.reindex(t.index))
            ci = kmf.confidence_interval_.reindex(t.index)
            for a, b in ((surv, t["survival"]), (se, t["std_err"]), (ci.iloc[:, 0], t["lower"]), (ci.iloc[:, 1], t["upper"])):
                worst = max(worst, float(np.nanmax(np.abs(a.to_numpy() - b.to_numpy()))))
        rows.append(("KaplanMeierFitter: survival, SE, log-log CI", name, worst))
    for name in LOGRANK_FIXTURES:
        d, r = _fixture(name, "data"), _fixture(name, "logrank").iloc[0]
        res = multivariate_logrank_test(d["time_days"], d["arm"], d["event"])
        rows.append(("multivariate_logrank_test: chi2", name, abs(res.test_statistic - r["chi2"])))
        rows.append(("multivariate_logrank_test: p", name, abs(res.p_value - r["p"])))
    for name, groups in COX_FIXTURES.items():
        d, r = _fixture(name, "data"), _fixture(name, "cox").set_index("group")
        d = d[d["arm"].isin(groups)]
        frame = pd.DataFrame({g: (d["arm"] == g).astype(float) for g in groups[:-1]})
        frame["T"], frame["E"] = d["time_days"].to_numpy(), d["event"].to_numpy()
        for label, options in (("default", None), ("tight", TIGHT)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # monotone: "convergence halted", as expected
                summary = CoxPHFitter().fit(frame, "T", "E", fit_options=options).summary.loc[r.index]
            ours = summary[["exp(coef)", "exp(coef) lower 95%", "exp(coef) upper 95%", "p"]].to_numpy()
            rows.append((f"CoxPHFitter ({label}): HR, CI, p", name,
                         float(np.abs(ours - r[["hr", "lower", "upper", "p"]].to_numpy()).max())))
    d, r = _fixture("ties_cr", "data"), _fixture("ties_cr", "cif")
    worst = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for g, part in d.groupby("arm"):
            cif = AalenJohansenFitter(seed=1).fit(part["time_days"], part["event_type"], event_of_interest=1)
            cif = cif.cumulative_density_.iloc[:, 0]
            t = r[r["group"] == g]
            at = cif.reindex(cif.index.union(t["time"])).ffill().reindex(t["time"])
            worst = max(worst, float(np.abs(at.to_numpy() - t["cif"].to_numpy()).max()))
    rows.append(("AalenJohansenFitter: CIF (ties jittered)", "ties_cr", worst))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print("lifelines vs R's fixtures (tests/domain/reference; the tests allow 1e-6):")
    for what, name, diff in lifelines_vs_r():
        print(f"  {what:<44} {name:<14} {diff:>9.2e}{'' if diff <= 1e-6 else '  > 1e-6'}")
    print()
    print(f"{'patients':>9} {'statistic':<44} {'ours ms':>8} {'lifelines ms':>12} {'max abs diff':>12}")
    for n in (int(s) for s in args.sizes.split(",")):
        df = trial(n, args.seed)
        a = arrays(df)
        for check in (km_rows, logrank_rows, cox_rows, cif_rows):
            for what, ours_s, theirs_s, diff in check(df, a, args.repeat):
                print(f"{n:>9,} {what:<44} {1e3 * ours_s:>8.1f} {1e3 * theirs_s:>12.1f} {diff:>12.2e}", flush=True)


if __name__ == "__main__":
    main()
