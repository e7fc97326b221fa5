"""Infusions, post-infusion temperatures, infusion reactions and adverse events of the simulated trial.

Rates follow domain.md §2.4: fever (>= 37.3 / 38.0 C) after 6-10% of UC-MSC infusions and 1-3% of
placebo ones, onset 1-6 h, resolved within 24 h; rash up to 2% and hypersensitivity under 1% per
infusion. Disease adverse events (infections, encephalopathy, bleeding, hepatorenal syndrome) are
more frequent in sicker patients and in the first 90 days, when liver failure is most active.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.domain.visits import INFUSION_DAYS, TEMPERATURE_TIMEPOINTS

GENERAL_SOC = "General disorders and administration site conditions"
INFECTIONS_SOC = "Infections and infestations"
# term, SOC, expected events in the first 90 days, events per patient-year after, grade 1-4 probabilities
DISEASE_EVENTS: tuple[tuple[str, str, float, float, tuple[float, float, float, float]], ...] = (
    ("Pneumonia", INFECTIONS_SOC, 0.15, 0.10, (0.2, 0.4, 0.3, 0.1)),
    ("Peritonitis bacterial", INFECTIONS_SOC, 0.12, 0.05, (0.1, 0.4, 0.4, 0.1)),
    ("Sepsis", INFECTIONS_SOC, 0.05, 0.02, (0.0, 0.1, 0.5, 0.4)),
    ("Urinary tract infection", INFECTIONS_SOC, 0.08, 0.05, (0.4, 0.5, 0.1, 0.0)),
    ("Hepatic encephalopathy", "Nervous system disorders", 0.18, 0.05, (0.3, 0.35, 0.25, 0.1)),
    ("Upper gastrointestinal haemorrhage", "Gastrointestinal disorders", 0.06, 0.03, (0.1, 0.3, 0.45, 0.15)),
    ("Hepatorenal syndrome", "Renal and urinary disorders", 0.06, 0.01, (0.0, 0.2, 0.5, 0.3)),
    ("Hyponatraemia", "Metabolism and nutrition disorders", 0.15, 0.05, (0.5, 0.3, 0.15, 0.05)),
    ("Diarrhoea", "Gastrointestinal disorders", 0.10, 0.08, (0.6, 0.3, 0.1, 0.0)),
    ("Fatigue", GENERAL_SOC, 0.20, 0.10, (0.6, 0.3, 0.1, 0.0)),
)
DEATH_CAUSE_SOC = {
    "Hepatic failure": "Hepatobiliary disorders",
    "Multiple organ dysfunction syndrome": GENERAL_SOC,
    "Sepsis": INFECTIONS_SOC,
    "Hepatorenal syndrome": "Renal and urinary disorders",
    "Upper gastrointestinal haemorrhage": "Gastrointestinal disorders",
    "Hepatic encephalopathy": "Nervous system disorders",
}
AE_COLUMNS = ["usubjid", "term", "soc", "grade", "serious", "related", "infusion_related", "infusion_num",
              "onset_hours_after", "onset_day", "end_day", "outcome", "led_to_discontinuation"]


def simulate_infusion_day(rng, usubjid, active, effect_on, exit_day, day1, weight, arm_names):
    """Infusions on days 1, 29 and 57 (never after death or withdrawal), temperatures and reactions,
    over the whole trial; vital signs carry ``given_on`` so the caller can apply the data cut."""
    n = len(usubjid)
    k = len(INFUSION_DAYS)
    inf_day = np.broadcast_to(np.array(INFUSION_DAYS), (n, k))
    given_on = day1[:, None] + (inf_day - 1).astype("timedelta64[D]")
    given = inf_day < exit_day[:, None]
    row, col = np.nonzero(given)
    active_name, _ = arm_names
    infusions = pd.DataFrame({
        "usubjid": usubjid[row],
        "infusion_num": col + 1,
        "given_on": given_on[row, col],
        "study_day": inf_day[row, col],
        "product": np.where(active[row], f"{active_name} 0.5 x 10^6 cells/kg in 50 mL", "0.9% saline 50 mL"),
        "dose_cells_1e6": np.where(active[row], np.round(0.5 * weight[row], 1), 0.0),
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
    reactions = []
    febrile = fever & (post >= 38.0)
    reactions.append(_reaction_rows(usubjid[row], col, inf_day[row, col], febrile, "Pyrexia", GENERAL_SOC,
                                    np.where(post > 39.0, 2, 1), onset - 0.5))
    rash = rng.random(m) < (0.01 + 0.005 * msc)
    reactions.append(_reaction_rows(usubjid[row], col, inf_day[row, col], rash, "Rash",
                                    "Skin and subcutaneous tissue disorders",
                                    rng.choice([1, 2], m, p=[0.8, 0.2]), rng.uniform(0.5, 20.0, m)))
    allergy = rng.random(m) < (0.002 + 0.004 * msc)
    reactions.append(_reaction_rows(usubjid[row], col, inf_day[row, col], allergy, "Hypersensitivity",
                                    "Immune system disorders", rng.choice([1, 2, 3], m, p=[0.5, 0.35, 0.15]),
                                    rng.uniform(0.1, 3.0, m)))
    return infusions, vitals, pd.concat(reactions, ignore_index=True)


def _reaction_rows(ids, col, day, mask, term, soc, grade, onset_hours) -> pd.DataFrame:
    g = np.asarray(grade)[mask]
    return pd.DataFrame({
        "usubjid": ids[mask], "term": term, "soc": soc, "grade": g, "serious": g >= 3,
        "related": True, "infusion_related": True, "infusion_num": col[mask] + 1,
        "onset_hours_after": np.round(np.asarray(onset_hours)[mask], 1),
        "onset_day": day[mask], "end_day": day[mask] + (np.asarray(onset_hours)[mask] > 12).astype(int),
        "outcome": "RECOVERED/RESOLVED", "led_to_discontinuation": False,
    })


def simulate_adverse_events(rng, usubjid, day1, exit_day, exit_kind, death_cause, frailty, infusion_aes: pd.DataFrame,
                            cut64) -> pd.DataFrame:
    """Disease AEs, fatal events for every death, and the AE behind some withdrawals; numbered ae_id.

    Events are drawn over each patient's whole time on study (to ``exit_day``), then the cut applies:
    an event exists if it began by the cut, and one still running at the cut is not yet resolved.
    """
    n = len(usubjid)
    ids = usubjid
    last_day = exit_day
    risk = np.exp(0.4 * frailty)
    frames = [infusion_aes]
    for term, soc, early, late, grade_p in DISEASE_EVENTS:
        early_days = np.clip(last_day, 0, 90)
        late_days = np.clip(last_day - 90, 0, None)
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
            "usubjid": ids[who], "term": term, "soc": soc, "grade": grade, "serious": grade >= 3,
            "related": rng.random(len(who)) < 0.03, "infusion_related": False, "infusion_num": pd.NA,
            "onset_hours_after": np.nan, "onset_day": onset,
            # Events still running when the patient leaves the study are never seen to resolve.
            "end_day": np.where(end > last_day[who], -1, end),
            "outcome": "RECOVERED/RESOLVED", "led_to_discontinuation": False,
        }))

    died = exit_kind == 0
    death_day = last_day[died]
    causes = death_cause[died]
    frames.append(pd.DataFrame({
        "usubjid": ids[died], "term": causes, "soc": [DEATH_CAUSE_SOC[c] for c in causes], "grade": 5,
        "serious": True, "related": False, "infusion_related": False, "infusion_num": pd.NA,
        "onset_hours_after": np.nan, "onset_day": np.maximum(death_day - rng.integers(0, 6, died.sum()), 1),
        "end_day": death_day, "outcome": "FATAL", "led_to_discontinuation": False,
    }))
    # About 40% of withdrawals follow an adverse event that the investigator records as the reason.
    withdrew = (exit_kind == 2) & (rng.random(n) < 0.4)
    frames.append(pd.DataFrame({
        "usubjid": ids[withdrew], "term": "Hepatic encephalopathy", "soc": "Nervous system disorders",
        "grade": 3, "serious": True, "related": False, "infusion_related": False, "infusion_num": pd.NA,
        "onset_hours_after": np.nan, "onset_day": last_day[withdrew], "end_day": -1,
        "outcome": "NOT RECOVERED/NOT RESOLVED", "led_to_discontinuation": True,
    }))
    aes = pd.concat([f[AE_COLUMNS] for f in frames if len(f)], ignore_index=True)
    aes["end_day"] = aes["end_day"].where(aes["end_day"] >= 0).astype("Int64")
    aes["infusion_num"] = aes["infusion_num"].astype("Int64")
    aes = aes.sort_values(["usubjid", "onset_day", "term"], kind="stable").reset_index(drop=True)
    aes.insert(0, "ae_id", np.arange(1, len(aes) + 1))  # numbered before the cut: ids are stable across cuts
    return _as_known_at_cut(aes, dict(zip(ids, day1)), cut64)


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
