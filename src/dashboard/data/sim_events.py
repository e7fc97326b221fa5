"""Infusions, post-infusion temperatures, infusion reactions and adverse events of the simulated trial.

Infusions: due on days 1, 29 and 57; infusions 2 and 3 mostly given within a day of their day, some 2-3 days
late (inside the +-3-day window of domain.exposure), a few 4-10 days late (outside it), about 4% missed
(survivors too); never on or after the day the patient leaves. The UC-MSC dose is made of whole vials of
5 x 10^6 cells, as many as come nearest 0.5 x 10^6 cells/kg for the patient's weight, times the viable-cell
count at release (mean 100% of the label, SD 2%), so cells/kg vary with weight and vial around the plan, nearly all
within the +-10% of domain.exposure.DOSE_TOLERANCE.

Rates follow domain.md §2.4: fever (>= 37.3 / 38.0 C) after 6-10% of UC-MSC infusions and 1-3% of placebo
ones, onset 1-6 h, resolved within 24 h; rash up to 2% and hypersensitivity under 1% per infusion. Disease
adverse events (infections, encephalopathy, bleeding, kidney injury) are more frequent in sicker patients and
in the first 90 days, when liver failure is most active; the assessments made while they last show them
(:func:`episode_grades`, used by sim_labs). Hyponatraemia is reported from the sodium values (CTCAE v5 grade
2 or worse, and worse than at baseline), so its grade is the lab's. Every death has a fatal event of its
cause beginning at the cause's onset (sim_course), a septic death also fever.

Seriousness follows the grade without equalling it ([E]: a grade 2 infection treated in hospital is
serious, a grade 3 event managed on the ward may not be): serious with probability 2%, 20%, 70% and 100%
for grades 1-4, always for a death; an infusion reaction (hours long) only from grade 3.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.data.sim_course import DEATH_CAUSES, SEPSIS, Course
from dashboard.domain import ctcae
from dashboard.domain.visits import INFUSION_DAYS, TEMPERATURE_TIMEPOINTS

GENERAL_SOC = "General disorders and administration site conditions"
INFECTIONS_SOC = "Infections and infestations"
# term, SOC, expected events in the first 90 days, events per patient-year after, grade 1-4 probabilities,
# and the kind of episode the assessments show while it lasts (None: none).
DISEASE_EVENTS: tuple[tuple[str, str, float, float, tuple[float, float, float, float], str | None], ...] = (
    ("Pneumonia", INFECTIONS_SOC, 0.15, 0.10, (0.2, 0.4, 0.3, 0.1), "pneumonia"),
    ("Peritonitis bacterial", INFECTIONS_SOC, 0.12, 0.05, (0.1, 0.4, 0.4, 0.1), "infection"),
    ("Sepsis", INFECTIONS_SOC, 0.05, 0.02, (0.0, 0.1, 0.5, 0.4), "sepsis"),
    ("Urinary tract infection", INFECTIONS_SOC, 0.08, 0.05, (0.4, 0.5, 0.1, 0.0), "infection"),
    ("Hepatic encephalopathy", "Nervous system disorders", 0.18, 0.05, (0.3, 0.35, 0.25, 0.1), "encephalopathy"),
    ("Upper gastrointestinal haemorrhage", "Gastrointestinal disorders", 0.06, 0.03, (0.1, 0.3, 0.45, 0.15), "bleeding"),
    ("Acute kidney injury", "Renal and urinary disorders", 0.08, 0.02, (0.3, 0.35, 0.25, 0.1), "kidney"),
    ("Diarrhoea", "Gastrointestinal disorders", 0.10, 0.08, (0.6, 0.3, 0.1, 0.0), None),
    ("Fatigue", GENERAL_SOC, 0.20, 0.10, (0.6, 0.3, 0.1, 0.0), None),
)
EPISODE_KINDS = ("infection", "sepsis", "pneumonia", "encephalopathy", "bleeding", "kidney")
DEATH_CAUSE_SOC = {
    "Hepatic failure": "Hepatobiliary disorders",
    "Multiple organ dysfunction syndrome": GENERAL_SOC,
    "Sepsis": INFECTIONS_SOC,
    "Hepatorenal syndrome": "Renal and urinary disorders",
    "Upper gastrointestinal haemorrhage": "Gastrointestinal disorders",
    "Hepatic encephalopathy": "Nervous system disorders",
}
SERIOUS_P = (0.0, 0.02, 0.2, 0.7, 1.0)  # by grade 0-4
HYPONATRAEMIA = ("Hyponatraemia", "Metabolism and nutrition disorders")
HYPONATRAEMIA_MIN_GRADE = 2
VIAL_CELLS_1E6 = 5.0
PLANNED_CELLS_PER_KG_1E6 = 0.5
MISSED_INFUSION_P = 0.04
# Days from the due day of infusions 2 and 3: within a day, 2-3 days late (inside the window), 4-10 late.
DELAY_P = (0.84, 0.11, 0.05)
AE_COLUMNS = ["usubjid", "term", "soc", "grade", "serious", "related", "infusion_related", "infusion_num",
              "onset_hours_after", "onset_day", "end_day", "outcome", "led_to_discontinuation"]


def _serious(rng: np.random.Generator, grade: np.ndarray) -> np.ndarray:
    grade = np.asarray(grade, dtype=int)
    return rng.random(len(grade)) < np.take(SERIOUS_P, np.minimum(grade, 4))


def simulate_infusion_day(rng, usubjid, active, effect_on, exit_day, day1, weight, arm_names):
    """Infusions (delayed or missed as above, never on or after the exit day), temperatures and reactions,
    over the whole trial; vital signs carry ``given_on`` so the caller can apply the data cut."""
    n = len(usubjid)
    k = len(INFUSION_DAYS)
    due = np.broadcast_to(np.array(INFUSION_DAYS), (n, k))
    kind = rng.choice(len(DELAY_P), (n, k), p=DELAY_P)
    delay = np.select([kind == 0, kind == 1], [rng.integers(-1, 2, (n, k)), rng.integers(2, 4, (n, k))],
                      rng.integers(4, 11, (n, k)))
    delay[:, 0] = 0  # the first infusion defines study day 1
    missed = rng.random((n, k)) < MISSED_INFUSION_P
    missed[:, 0] = False
    inf_day = due + delay
    given_on = day1[:, None] + (inf_day - 1).astype("timedelta64[D]")
    given = (inf_day < exit_day[:, None]) & ~missed
    row, col = np.nonzero(given)
    active_name, _ = arm_names
    vials = np.maximum(np.rint(PLANNED_CELLS_PER_KG_1E6 * weight / VIAL_CELLS_1E6), 1)
    viable = np.clip(rng.normal(1.0, 0.02, (n, k)), 0.93, 1.07)
    cells = np.round(vials[:, None] * VIAL_CELLS_1E6 * viable, 1)
    infusions = pd.DataFrame({
        "usubjid": usubjid[row],
        "infusion_num": col + 1,
        "given_on": given_on[row, col],
        "study_day": inf_day[row, col],
        "product": np.where(active[row], f"{active_name} 0.5 x 10^6 cells/kg in 50 mL", "0.9% saline 50 mL"),
        "dose_cells_1e6": np.where(active[row], cells[row, col], 0.0),
        "volume_ml": 50.0,
    })

    m = len(row)
    msc = effect_on[row]
    fever = rng.random(m) < (0.02 + 0.06 * msc)
    peak = 37.3 + rng.gamma(2.0, 0.35, m)
    onset = rng.choice([1.0, 2.0, 4.0], m, p=[0.35, 0.4, 0.25])
    baseline_temp = rng.normal(36.6, 0.2, n)[row]
    hours = np.array([h for _, h in TEMPERATURE_TIMEPOINTS])
    profile = np.where(hours[None, :] >= 0, np.exp(-(((hours[None, :] - onset[:, None]) / 2.5) ** 2)), 0.0)
    temps = baseline_temp[:, None] + rng.normal(0.0, 0.12, (m, len(hours)))
    temps = np.where(fever[:, None], temps + (peak - baseline_temp)[:, None] * profile, temps)
    temps = np.round(temps, 1)
    vitals = pd.DataFrame({
        "usubjid": np.repeat(usubjid[row], len(hours)),
        "infusion_num": np.repeat(col + 1, len(hours)),
        "timepoint": np.tile([tp for tp, _ in TEMPERATURE_TIMEPOINTS], m),
        "hours_after": np.tile(hours, m),
        "paramcd": "TEMP",
        "value": temps.ravel(),
        "unit": "C",
        "given_on": np.repeat(given_on[row, col], len(hours)),
    })

    post = temps[:, 1:].max(axis=1)
    day = inf_day[row, col]
    reactions = []
    febrile = fever & (post >= 38.0)
    reactions.append(_reaction_rows(rng, usubjid[row], col, day, febrile, "Pyrexia", GENERAL_SOC,
                                    np.where(post > 39.0, 2, 1), onset - 0.5))
    rash = rng.random(m) < (0.01 + 0.005 * msc)
    reactions.append(_reaction_rows(rng, usubjid[row], col, day, rash, "Rash", "Skin and subcutaneous tissue disorders",
                                    rng.choice([1, 2], m, p=[0.8, 0.2]), rng.uniform(0.5, 20.0, m)))
    allergy = rng.random(m) < (0.002 + 0.004 * msc)
    reactions.append(_reaction_rows(rng, usubjid[row], col, day, allergy, "Hypersensitivity", "Immune system disorders",
                                    rng.choice([1, 2, 3], m, p=[0.5, 0.35, 0.15]), rng.uniform(0.1, 3.0, m)))
    return infusions, vitals, pd.concat(reactions, ignore_index=True)


def _reaction_rows(rng, ids, col, day, mask, term, soc, grade, onset_hours) -> pd.DataFrame:
    g = np.asarray(grade)[mask]
    return pd.DataFrame({
        # A reaction lasts hours in a patient already in hospital: serious only when severe.
        "usubjid": ids[mask], "term": term, "soc": soc, "grade": g, "serious": _serious(rng, g) & (g >= 3),
        "related": True, "infusion_related": True, "infusion_num": col[mask] + 1,
        "onset_hours_after": np.round(np.asarray(onset_hours)[mask], 1),
        "onset_day": day[mask], "end_day": day[mask] + (np.asarray(onset_hours)[mask] > 12).astype(int),
        "outcome": "RECOVERED/RESOLVED", "led_to_discontinuation": False,
    })


def simulate_disease_events(rng, exit_day, frailty) -> pd.DataFrame:
    """Disease adverse events over each patient's whole time on study, with ``row`` (patient index) and
    ``kind`` (the episode kind, None for none); ``end_day`` -1 where the event outlasts the patient's stay."""
    n = len(exit_day)
    risk = np.exp(0.4 * frailty)
    early_days = np.clip(exit_day, 0, 90)
    late_days = np.clip(exit_day - 90, 0, None)
    frames = []
    for term, soc, early, late, grade_p, kind in DISEASE_EVENTS:
        count_early = rng.poisson(early * risk * early_days / 90.0)
        count_late = rng.poisson(late * risk * late_days / 365.25)
        who = np.concatenate([np.repeat(np.arange(n), count_early), np.repeat(np.arange(n), count_late)])
        onset = np.concatenate([
            1 + np.floor(rng.random(count_early.sum()) * np.repeat(early_days, count_early)),
            91 + np.floor(rng.random(count_late.sum()) * np.repeat(late_days, count_late)),
        ]).astype(int)
        grade = rng.choice([1, 2, 3, 4], len(who), p=grade_p)
        end = onset + np.ceil(rng.lognormal(np.log(7.0), 0.6, len(who))).astype(int)
        frames.append(pd.DataFrame({
            "row": who, "kind": kind, "term": term, "soc": soc, "grade": grade,
            "serious": _serious(rng, grade), "related": rng.random(len(who)) < 0.03, "infusion_related": False,
            "infusion_num": pd.NA, "onset_hours_after": np.nan, "onset_day": onset,
            # Events still running when the patient leaves the study are never seen to resolve.
            "end_day": np.where(end > exit_day[who], -1, end),
            "outcome": "RECOVERED/RESOLVED", "led_to_discontinuation": False,
        }))
    return pd.concat(frames, ignore_index=True)


def episode_grades(events: pd.DataFrame, course: Course) -> dict[str, np.ndarray]:
    """Per episode kind, the highest grade (0 none) of the events running at each assessment after baseline
    (an event runs from its onset day to its end day; one that never resolves, to the last assessment)."""
    m = len(course.row)
    day_span = 100_000
    key = course.row.astype(np.int64) * day_span + course.study_day
    grades = {kind: np.zeros(m, dtype=int) for kind in EPISODE_KINDS}
    for kind in EPISODE_KINDS:
        ev = events[events["kind"] == kind]
        who = ev["row"].to_numpy(dtype=np.int64)
        end = np.where(ev["end_day"].to_numpy() < 0, day_span - 1, ev["end_day"].to_numpy())
        lo = np.searchsorted(key, who * day_span + np.maximum(ev["onset_day"].to_numpy(), 2), "left")
        hi = np.searchsorted(key, who * day_span + end, "right")
        count = np.maximum(hi - lo, 0)
        at = np.repeat(lo, count) + (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count))
        np.maximum.at(grades[kind], at, np.repeat(ev["grade"].to_numpy(dtype=int), count))
    # An infection of any kind raises the inflammation markers; sepsis and pneumonia have effects of their own too.
    for kind in ("sepsis", "pneumonia"):
        grades["infection"] = np.maximum(grades["infection"], grades[kind])
    return grades


def hyponatraemia_events(rng, course: Course, usubjid: np.ndarray, sodium: np.ndarray, lln: np.ndarray) -> pd.DataFrame:
    """Hyponatraemia as the investigator reports it from the sodium values (``sodium`` and its ``lln`` at each
    assessment of ``course``): each run of consecutive post-baseline assessments with a CTCAE v5 grade of at
    least 2 and worse than the baseline grade is one event, beginning at the run's first assessment, graded by
    its worst value, resolved at the next assessment out of the run (unresolved when the run reaches the
    patient's last assessment)."""
    ids, day = course.row, course.study_day
    grade = np.nan_to_num(ctcae.hyponatraemia(sodium, lln)).astype(int)
    new_patient = np.r_[True, ids[1:] != ids[:-1]]
    base = grade[np.flatnonzero(new_patient)[np.cumsum(new_patient) - 1]]
    low = ~new_patient & (grade >= HYPONATRAEMIA_MIN_GRADE) & (grade > base)
    starts = low & ~np.r_[False, low[:-1]]
    first = np.flatnonzero(starts)
    run = np.cumsum(starts)[low] - 1
    worst = np.zeros(len(first), dtype=int)
    np.maximum.at(worst, run, grade[low])
    last = np.zeros(len(first), dtype=int)
    np.maximum.at(last, run, np.flatnonzero(low))
    following = np.minimum(last + 1, len(ids) - 1)
    resolved = (last + 1 < len(ids)) & (ids[following] == ids[last])
    term, soc = HYPONATRAEMIA
    return pd.DataFrame({
        "usubjid": usubjid[ids[first]], "term": term, "soc": soc, "grade": worst, "serious": _serious(rng, worst),
        "related": False, "infusion_related": False, "infusion_num": pd.NA, "onset_hours_after": np.nan,
        "onset_day": day[first], "end_day": np.where(resolved, day[following], -1), "outcome": "RECOVERED/RESOLVED",
        "led_to_discontinuation": False,
    })


def simulate_adverse_events(rng, usubjid, day1, exit_day, exit_kind, course: Course, disease: pd.DataFrame,
                            infusion_aes: pd.DataFrame, lab_aes: pd.DataFrame, cut64) -> pd.DataFrame:
    """All adverse events, numbered ae_id: infusion reactions, disease events, lab-reported ones, the fatal
    event of every death (with fever for a septic death), and the event behind some withdrawals.

    Events are drawn over each patient's whole time on study (to ``exit_day``), then the cut applies:
    an event exists if it began by the cut, and one still running at the cut is not yet resolved.
    """
    n = len(usubjid)
    disease = disease.assign(usubjid=usubjid[disease["row"].to_numpy()])
    died = np.flatnonzero(exit_kind == 0)
    death_day = exit_day[died]
    causes = np.array(DEATH_CAUSES)[course.cause[died]]
    onset = np.minimum(course.cause_onset[died], death_day)
    fatal = pd.DataFrame({
        "usubjid": usubjid[died], "term": causes, "soc": [DEATH_CAUSE_SOC[c] for c in causes], "grade": 5,
        "serious": True, "related": False, "infusion_related": False, "infusion_num": pd.NA,
        "onset_hours_after": np.nan, "onset_day": onset, "end_day": death_day, "outcome": "FATAL",
        "led_to_discontinuation": False,
    })
    septic = course.cause[died] == SEPSIS
    fever_grade = rng.choice([1, 2], septic.sum(), p=[0.4, 0.6])
    fever = pd.DataFrame({
        "usubjid": usubjid[died[septic]], "term": "Pyrexia", "soc": GENERAL_SOC, "grade": fever_grade,
        "serious": _serious(rng, fever_grade), "related": False, "infusion_related": False, "infusion_num": pd.NA,
        "onset_hours_after": np.nan, "onset_day": onset[septic], "end_day": -1,
        "outcome": "NOT RECOVERED/NOT RESOLVED", "led_to_discontinuation": False,
    })
    # About 40% of withdrawals follow an adverse event that the investigator records as the reason.
    withdrew = (exit_kind == 2) & (rng.random(n) < 0.4)
    withdrawal = pd.DataFrame({
        "usubjid": usubjid[withdrew], "term": "Hepatic encephalopathy", "soc": "Nervous system disorders",
        "grade": 3, "serious": True, "related": False, "infusion_related": False, "infusion_num": pd.NA,
        "onset_hours_after": np.nan, "onset_day": exit_day[withdrew], "end_day": -1,
        "outcome": "NOT RECOVERED/NOT RESOLVED", "led_to_discontinuation": True,
    })
    frames = [infusion_aes, disease, lab_aes, fatal, fever, withdrawal]
    aes = pd.concat([f[AE_COLUMNS] for f in frames if len(f)], ignore_index=True)
    aes["end_day"] = aes["end_day"].where(aes["end_day"] >= 0).astype("Int64")
    aes["infusion_num"] = aes["infusion_num"].astype("Int64")
    aes = aes.sort_values(["usubjid", "onset_day", "term"], kind="stable").reset_index(drop=True)
    aes.insert(0, "ae_id", np.arange(1, len(aes) + 1))  # numbered before the cut: ids are stable across cuts
    return _as_known_at_cut(aes, dict(zip(usubjid, day1)), cut64)


def _as_known_at_cut(aes: pd.DataFrame, day1: dict, cut64) -> pd.DataFrame:
    """Events that began by the cut; those running at the cut (a death after it included) are unresolved."""
    start = aes["usubjid"].map(day1).to_numpy().astype("datetime64[D]")
    onset_on = start + (aes["onset_day"].to_numpy() - 1).astype("timedelta64[D]")
    aes = aes[onset_on <= cut64].copy()
    start = start[onset_on <= cut64]
    end = aes["end_day"].to_numpy(dtype=float, na_value=np.nan)
    ends_after_cut = np.isnan(end) | (start + (np.nan_to_num(end, nan=0).astype(int) - 1).astype("timedelta64[D]") > cut64)
    fatal_later = ends_after_cut & (aes["outcome"] == "FATAL").to_numpy()
    aes.loc[ends_after_cut, "end_day"] = pd.NA
    aes.loc[ends_after_cut, "outcome"] = "NOT RECOVERED/NOT RESOLVED"
    aes.loc[fatal_later, "grade"] = 4
    return aes.reset_index(drop=True)
