"""The simulated trial: 5:2 UC-MSC vs placebo in liver failure, faithful to the protocol and to domain.md.

Each patient's latent course (sim_course.py: the acute liver failure, the chronic liver disease behind it,
and for deaths their cause) drives every lab, assessment, ascites record and the hazard of death, so the
data are coherent: every randomised patient meets the entry criteria, patients who die or are transplanted
worsen before the event and show the picture of their cause of death, survivors recover, cirrhotic ones to
a compensated level (some stay decompensated), AFP rises while the liver regenerates and PT/PTA/INR are
derived from one prothrombin activity. The treatment lowers the hazard of death (HR about 0.5 in the first
12 weeks, 0.9 after), lowers bilirubin and raises albumin in the early weeks, and leaves PTA, INR and CHE
alone (domain.md §2.5). Everything is vectorised over patients, so 100,000 patients take well under two
minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from dashboard.data.derived_parameters import derive_parameters
from dashboard.data.sim_course import CIRRHOTIC_TYPES, DEATH_CAUSES, scheduled_visits, simulate_course
from dashboard.data.sim_events import (
    episode_grades,
    hyponatraemia_events,
    simulate_adverse_events,
    simulate_disease_events,
    simulate_infusion_day,
)
from dashboard.data.sim_labs import ascites_from_course, lab_limits, lab_table, simulate_labs
from dashboard.domain.visits import FOLLOW_UP_DAYS, VISITS

ENROLMENT_START = date(2024, 3, 4)
ENROLMENT_DAYS = 548  # about 18 months
CUT_FRACTION_OF_FOLLOW_UP = 0.60

ETIOLOGIES = ("HBV", "Alcohol", "Drug-induced", "HEV", "Autoimmune", "Other/unknown")
ETIOLOGY_P = (0.70, 0.08, 0.07, 0.05, 0.04, 0.06)
LF_TYPES = ("ACLF", "Acute", "Subacute", "Chronic")
LF_TYPE_P = (0.75, 0.08, 0.10, 0.07)

# Placebo hazard of death per day, piecewise (domain.md §4: about 25% dead by day 28, 38% by day 90,
# 45% at one year, 48% at two years), and of transplant (about 5% by day 90, 8% by two years).
HAZARD_BREAKS = np.array([0.0, 28.0, 84.0, 90.0, 365.0, 10_000.0])
DEATH_RATE = np.array([0.0103, 0.00306, 0.00306, 0.000436, 0.000153])
TRANSPLANT_RATE = np.array([0.00057, 0.00057, 0.00057, 0.00005, 0.00005])
WITHDRAW_RATE = np.array([0.0002, 0.0001, 0.0001, 0.00002, 0.00002])
LOST_RATE = np.array([0.00003, 0.00005, 0.00005, 0.00006, 0.00006])
# Treatment hazard ratio for death by the same pieces: most of the benefit in the first 12 weeks.
DEATH_HR_ACTIVE = np.array([0.48, 0.48, 0.9, 0.9, 0.9])


@dataclass(frozen=True)
class SimulationSettings:
    patients: int = 70
    seed: int = 2026
    cut_date: date | None = None
    sites: int = 3
    effect: str = "default"
    arms: tuple[str, str] = ("UC-MSC", "Placebo")

    def __post_init__(self) -> None:
        if self.patients < 1:
            raise ValueError(f"simulate: patients must be at least 1, got {self.patients}")
        if self.sites < 1:
            raise ValueError(f"simulate: sites must be at least 1, got {self.sites}")
        if self.effect not in ("default", "none"):
            raise ValueError(f"simulate: effect must be 'default' or 'none', got {self.effect!r}")
        if len(self.arms) != 2 or self.arms[0] == self.arms[1] or not all(a.strip() for a in self.arms):
            raise ValueError(f"simulate: arms must be two different names (active, control), got {self.arms!r}")


def _block_randomise(rng: np.random.Generator, n: int) -> np.ndarray:
    """Permuted blocks of 7 (5 active : 2 control); True = active. Exactly 50:20 at n=70."""
    blocks = -(-n // 7)
    template = np.array([True] * 5 + [False] * 2)
    allocation = np.concatenate([rng.permutation(template) for _ in range(blocks)])
    return allocation[:n]


def _piecewise_times(rng: np.random.Generator, rates: np.ndarray) -> np.ndarray:
    """Draw event times from piecewise-constant hazards; ``rates`` is patients x pieces."""
    widths = np.diff(HAZARD_BREAKS)
    cum = np.concatenate([np.zeros((rates.shape[0], 1)), np.cumsum(rates * widths, axis=1)], axis=1)
    target = rng.exponential(1.0, rates.shape[0])
    piece = np.clip((cum[:, 1:] < target[:, None]).sum(axis=1), 0, rates.shape[1] - 1)
    rows = np.arange(rates.shape[0])
    return HAZARD_BREAKS[piece] + (target - cum[rows, piece]) / rates[rows, piece]


def default_cut_date(day1: np.ndarray) -> date:
    """The first calendar day by which 60% of the planned follow-up (to week 96) has accrued."""
    ordinals = day1.astype("datetime64[D]").astype(np.int64)
    planned = CUT_FRACTION_OF_FOLLOW_UP * len(ordinals) * FOLLOW_UP_DAYS
    lo, hi = int(ordinals.min()), int(ordinals.max()) + FOLLOW_UP_DAYS
    while lo < hi:
        mid = (lo + hi) // 2
        if np.clip(mid - ordinals, 0, FOLLOW_UP_DAYS).sum() >= planned:
            hi = mid
        else:
            lo = mid + 1
    return (np.datetime64(lo, "D")).astype(date)


def simulate_trial(settings: SimulationSettings) -> dict[str, pd.DataFrame]:
    """Simulate the trial and return one DataFrame per table of the data model."""
    rng = np.random.default_rng(settings.seed)
    n = settings.patients
    active_name, control_name = settings.arms

    enrol_offsets = np.sort(rng.uniform(0, ENROLMENT_DAYS, n)).astype(int)
    randomized = np.datetime64(ENROLMENT_START) + enrol_offsets.astype("timedelta64[D]")
    day1 = randomized + rng.integers(0, 3, n).astype("timedelta64[D]")
    cut = settings.cut_date or default_cut_date(day1)
    cut64 = np.datetime64(cut, "D")
    keep = randomized <= cut64
    if not keep.any():
        raise ValueError(f"simulate: no patient is randomised by the cut date {cut}; choose a later --cut-date")

    site_p = rng.dirichlet(np.full(settings.sites, 4.0))
    site = rng.choice(settings.sites, n, p=site_p)
    active = _block_randomise(rng, n)
    female = rng.random(n) < 0.15
    age = np.clip(np.round(rng.normal(44, 11, n)), 18, 70).astype(int)
    weight = np.round(np.clip(rng.normal(65, 10, n) - 8 * female, 40, 110), 1)
    etiology = rng.choice(len(ETIOLOGIES), n, p=ETIOLOGY_P)
    lf_type = rng.choice(len(LF_TYPES), n, p=LF_TYPE_P)

    frailty = rng.normal(0, 1, n)
    hazard_mult = np.exp(0.55 * frailty)[:, None]
    death_hr = np.where(active[:, None] & (settings.effect == "default"), DEATH_HR_ACTIVE[None, :], 1.0)
    t_death = _piecewise_times(rng, DEATH_RATE[None, :] * hazard_mult * death_hr)
    t_transplant = _piecewise_times(rng, TRANSPLANT_RATE[None, :] * np.exp(0.4 * frailty)[:, None])
    t_withdraw = _piecewise_times(rng, np.broadcast_to(WITHDRAW_RATE, (n, len(WITHDRAW_RATE))))
    t_lost = _piecewise_times(rng, np.broadcast_to(LOST_RATE, (n, len(LOST_RATE))))
    # Study days are whole days from day 1; an event on day 1 is possible (day index 0).
    event_day = np.stack([t_death, t_transplant, t_withdraw, t_lost]).astype(int) + 1
    first = event_day.argmin(axis=0)
    exit_day = event_day.min(axis=0)
    completed = exit_day > FOLLOW_UP_DAYS
    exit_kind = np.where(completed, 4, first)  # 0 died 1 transplanted 2 withdrawn 3 lost 4 completed
    exit_day = np.where(completed, FOLLOW_UP_DAYS, exit_day)

    # The whole two-year course is simulated first and the cut applied afterwards, so the random draws
    # never depend on the cut date: a later cut of the same seed holds every earlier record unchanged.
    visits = scheduled_visits(rng, n, exit_day, exit_kind)
    cirrhotic = np.isin(np.array(LF_TYPES)[lf_type], CIRRHOTIC_TYPES)
    course = simulate_course(rng, frailty, cirrhotic, exit_day, exit_kind, visits)

    site_ids = np.array([f"S{i + 1:02d}" for i in range(settings.sites)])
    width = max(4, len(str(n)))
    usubjid = np.array([f"MSC-{i + 1:0{width}d}" for i in range(n)], dtype=object)
    arm = np.where(active, active_name, control_name)
    effect_on = active & (settings.effect == "default")

    infusions, vitals, infusion_aes = simulate_infusion_day(
        rng, usubjid, active, effect_on, exit_day, day1, weight, (active_name, control_name)
    )
    disease = simulate_disease_events(rng, exit_day, frailty)
    values = simulate_labs(rng, course, site, female, effect_on, episode_grades(disease, course))
    ascites = ascites_from_course(rng, course, usubjid)
    sodium_lln, _ = lab_limits("SODIUM", site[course.row])
    aes = simulate_adverse_events(rng, usubjid, day1, exit_day, exit_kind, course, disease, infusion_aes,
                                  hyponatraemia_events(rng, course, usubjid, values["SODIUM"], sodium_lln), cut64)
    death_cause = np.array(DEATH_CAUSES, dtype=object)[course.cause]

    visit_dates = day1[visits["row"]] + (visits["study_day"] - 1).astype("timedelta64[D]")
    visits = {k: v[visit_dates <= cut64] for k, v in visits.items()}
    labs = lab_table(values, course, usubjid, site, day1,
                     day1[course.row] + (course.study_day - 1).astype("timedelta64[D]") <= cut64)
    ascites = ascites[day1[ascites["row"]] + (ascites["study_day"].to_numpy() - 1).astype("timedelta64[D]") <= cut64]
    ascites = ascites.drop(columns="row").reset_index(drop=True)
    infusions = infusions[infusions["given_on"] <= cut64].reset_index(drop=True)
    # A 24-hour temperature is taken the day after the infusion.
    vital_on = vitals["given_on"] + pd.to_timedelta((vitals["hours_after"] >= 24).astype(int), unit="D")
    vitals = vitals[vital_on <= cut64].drop(columns="given_on").reset_index(drop=True)
    subjects = _subjects_table(
        usubjid, site_ids[site], arm, randomized, day1, age, female, weight, etiology, lf_type,
        exit_day, exit_kind, cut64, visits, ascites, death_cause,
    )
    # MELD, the liver-failure grades and the CTCAE grades, as every imported cut gets them. Each derived value
    # depends only on its assessment's own records, the patient's baseline and age and sex, so deriving the
    # cut's rows gives what deriving the whole course and then cutting would, with less work.
    labs = derive_parameters(labs, ascites, subjects)
    meld = labs[labs["paramcd"] == "MELD"]
    meld = meld[meld["visit_num"].eq(0).fillna(False).to_numpy(dtype=bool)]
    subjects["baseline_meld"] = subjects["usubjid"].map(meld.set_index("usubjid")["value"])
    # Every record is dated on or after the patient's day 1, so the cut keeps no record of a patient it drops.
    subjects = subjects[keep].reset_index(drop=True)

    study = pd.DataFrame([{
        "study_id": "NCT01218464",
        "title": "Human umbilical-cord mesenchymal stem cells (UC-MSC) vs placebo in liver failure (simulated)",
        "planned_n": n,
        "data_cut_date": cut,
        "blinded": True,
        "arms": [active_name, control_name],
        "active_arm": active_name,
        "control_arm": control_name,
        "source": f"simulated: seed {settings.seed}, effect {settings.effect}",
        "simulated": True,
        "enrolment_start": ENROLMENT_START,
        "enrolment_months": ENROLMENT_DAYS / 30.44,
        "follow_up_days": FOLLOW_UP_DAYS,
    }])
    visits_table = pd.DataFrame([v.__dict__ for v in VISITS])
    return {
        "study": study,
        "subjects": subjects,
        "visits": visits_table,
        "lab_results": labs,
        "infusions": infusions,
        "vital_signs": vitals,
        "adverse_events": aes,
        "ascites": ascites,
    }


def _subjects_table(usubjid, site, arm, randomized, day1, age, female, weight, etiology, lf_type,
                    exit_day, exit_kind, cut64, visits, ascites, death_cause) -> pd.DataFrame:
    """One row per patient with status as known at the cut (later events do not exist yet)."""
    exit_date = day1 + (exit_day - 1).astype("timedelta64[D]")
    happened = exit_date <= cut64
    status_by_kind = np.array(["died", "transplanted", "withdrawn", "lost to follow-up", "completed"])
    status = np.where(happened, status_by_kind[exit_kind], "on study")
    nat = np.datetime64("NaT", "D")
    death_on = np.where(happened & (exit_kind == 0), exit_date, nat)
    transplant_on = np.where(happened & (exit_kind == 1), exit_date, nat)
    withdrawn_on = np.where(happened & (exit_kind == 2), exit_date, nat)
    # Last contact: the event date for deaths, transplants, withdrawals and completers; otherwise the
    # last attended visit on or before the cut (patients alive at the cut are censored there).
    last_visit = pd.Series(visits["study_day"]).groupby(visits["row"]).max().reindex(range(len(usubjid))).fillna(1)
    last_visit_date = day1 + (last_visit.to_numpy().astype(int) - 1).astype("timedelta64[D]")
    contact_is_exit = happened & (exit_kind != 3)
    last_contact = np.where(contact_is_exit, exit_date, np.minimum(last_visit_date, cut64))
    death_cause = np.where(happened & (exit_kind == 0), death_cause, None)

    base_ascites = ascites.loc[ascites["visit_num"] == 0].set_index("usubjid")["grade"]
    df = pd.DataFrame({
        "usubjid": usubjid,
        "site_id": site,
        "arm": arm,
        "randomized_on": randomized,
        "day1_on": day1,
        "age": age,
        "sex": np.where(female, "F", "M"),
        "weight_kg": weight,
        "etiology": np.array(ETIOLOGIES)[etiology],
        "lf_type": np.array(LF_TYPES)[lf_type],
        "status": status,
        "death_on": death_on,
        "death_cause": death_cause,
        "transplant_on": transplant_on,
        "withdrawn_on": withdrawn_on,
        "last_contact_on": last_contact,
    })
    df["baseline_ascites_grade"] = df["usubjid"].map(base_ascites).astype("Int64")
    return df

