"""The latent clinical course of each simulated patient, which every lab, assessment and ascites record follows.

Three things make a patient's course:

- ``severity`` s(t), the acute liver failure: about 1 at entry (the typical HBV-ACLF entry values of
  domain.md §3.3), falling towards the patient's own floor as the liver recovers, rising again in the weeks
  before death or transplant;
- ``chronic`` c, the background liver disease, 0 (none) to 1 (advanced cirrhosis). ACLF and chronic liver
  failure arise on chronic liver disease, in HBV mostly cirrhosis (domain.md §3.1: ascites in 59-77% at
  entry), so their survivors plateau at a compensated cirrhotic level (albumin 30-35 g/L, bilirubin 1.5-3 x
  ULN, INR 1.2-1.5, low platelets), not at normal; acute and subacute liver failure recover towards normal;
- ``decompensated``: [E] a third of the cirrhotic patients keep a severity floor of 0.3-0.6 and stay
  decompensated if they survive (persistent ascites, MELD above 15). No source gives this share for
  survivors of HBV-ACLF; it is chosen so that about a fifth of all survivors stay decompensated.

Deaths carry their cause. From the cause's onset, days to weeks before death, the values that define the
cause move towards what the cause looks like (``signature``: 0 before the onset, rising to 1 over the last
three days of life), and every death has an assessment in its last three days (an unscheduled one when no
scheduled visit falls there), so the record shows why the patient died. The lab side of each cause is in
``sim_labs``. Nothing of the outcome reaches the baseline (study day 1): it is measured before treatment,
so it must not depend on an outcome that treatment changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashboard.domain.visits import VISITS

MISSED_VISIT_RATE = 0.05
UNSCHEDULED = -1  # visit index of an unscheduled assessment

DEATH_CAUSES = ("Hepatic failure", "Multiple organ dysfunction syndrome", "Sepsis", "Hepatorenal syndrome",
                "Upper gastrointestinal haemorrhage", "Hepatic encephalopathy")
HEPATIC_FAILURE, MODS, SEPSIS, HEPATORENAL, BLEEDING, ENCEPHALOPATHY = range(len(DEATH_CAUSES))
# [E] Causes of death in the first two weeks are mostly the failing liver itself and multi-organ failure;
# later ones more often complications: infection, bleeding, kidney (Lin 2017 counts multi-organ failure and
# severe infection as the main causes in HBV-ACLF, domain.md §2.2). Overall about 40/20/12/10/10/8%.
CAUSE_P_EARLY = (0.46, 0.26, 0.08, 0.06, 0.06, 0.08)
CAUSE_P_LATE = (0.32, 0.14, 0.17, 0.14, 0.14, 0.09)
EARLY_DEATH_DAYS = 14
# Days from the cause's onset to death (uniform, inclusive): a kidney or liver failing over weeks, sepsis and
# encephalopathy over days, a variceal bleed within hours to days.
CAUSE_ONSET_DAYS = ((7, 21), (3, 10), (2, 8), (5, 18), (0, 3), (2, 8))
SIGNATURE_FULL_DAYS = 3  # the cause's picture is complete over the last three days of life
# Days before death of the last assessment when no scheduled visit falls there (0 = the day of death).
LAST_ASSESSMENT_DAYS_P = (0.30, 0.35, 0.20, 0.15)
CIRRHOTIC_TYPES = ("ACLF", "Chronic")
DECOMPENSATED_SHARE = 1 / 3


@dataclass(frozen=True)
class Course:
    """Per patient: ``chronic``, ``decompensated``, ``cause`` (index into DEATH_CAUSES; meaningful for
    deaths), ``cause_onset`` (study day). Per assessment (sorted by patient, then day): ``row`` (patient
    index), ``visit_idx`` (index into VISITS, UNSCHEDULED for an unscheduled one), ``study_day``,
    ``severity`` and ``signature`` (0..1, the share of the death cause's picture present)."""

    chronic: np.ndarray
    decompensated: np.ndarray
    cause: np.ndarray
    cause_onset: np.ndarray
    row: np.ndarray
    visit_idx: np.ndarray
    study_day: np.ndarray
    severity: np.ndarray
    signature: np.ndarray


def simulate_course(rng: np.random.Generator, frailty: np.ndarray, cirrhotic: np.ndarray, exit_day: np.ndarray,
                    exit_kind: np.ndarray, scheduled: dict[str, np.ndarray]) -> Course:
    """The course of every patient over the whole follow-up (the cut is applied later).

    ``frailty``: the patient's standard-normal risk, which also sets the hazard of death (simulate.py);
    ``exit_kind``: 0 died, 1 transplanted, 2 withdrawn, 3 lost, 4 completed; ``scheduled``: the attended
    scheduled visits (:func:`scheduled_visits`)."""
    n = len(frailty)
    chronic = np.where(cirrhotic, rng.uniform(0.55, 1.0, n), rng.uniform(0.0, 0.1, n))
    # Sicker patients more often stay decompensated (odds x1.8 per SD of frailty).
    odds = DECOMPENSATED_SHARE / (1.0 - DECOMPENSATED_SHARE) * np.exp(0.6 * frailty)
    decompensated = cirrhotic & (rng.random(n) < odds / (1.0 + odds))
    died = exit_kind == 0
    early = exit_day <= EARLY_DEATH_DAYS
    cause = np.where(early, rng.choice(len(DEATH_CAUSES), n, p=CAUSE_P_EARLY),
                     rng.choice(len(DEATH_CAUSES), n, p=CAUSE_P_LATE))
    lo, hi = np.array(CAUSE_ONSET_DAYS).T
    onset_days = rng.integers(lo[cause], hi[cause] + 1)

    row, visit_idx, day = _with_last_assessment(rng, scheduled, exit_day, died)
    final_day = np.zeros(n, dtype=int)
    np.maximum.at(final_day, row, day)
    # The cause has begun by the last assessment, so that assessment shows it.
    cause_onset = np.where(died, np.minimum(np.maximum(exit_day - onset_days, 2), np.maximum(final_day, 2)),
                           np.iinfo(np.int32).max)
    signature = np.zeros(len(row))
    dead_row = died[row] & (day >= 2)
    onset = cause_onset[row]
    full = np.maximum(exit_day[row] - SIGNATURE_FULL_DAYS, onset)
    ramp = (day - onset + 1) / (full - onset + 1)
    signature[dead_row] = np.clip(ramp[dead_row], 0.0, 1.0)

    severity = _severity(rng, frailty, decompensated, row, day, exit_day, exit_kind)
    # The failing liver itself: bilirubin and INR climb to terminal values (targets drawn per patient).
    liver = np.isin(cause, (HEPATIC_FAILURE, MODS))[row] & (signature > 0)
    target = rng.uniform(1.25, 1.45, n)[row]
    severity = np.where(liver, severity + signature * (target - severity), severity)
    return Course(chronic, decompensated, cause, cause_onset, row, visit_idx, day, severity, signature)


def scheduled_visits(rng: np.random.Generator, n: int, exit_day: np.ndarray, exit_kind: np.ndarray) -> dict[str, np.ndarray]:
    """Scheduled visits each patient attended: jittered inside the window, about 5% missed."""
    lo = np.array([v.window_lo for v in VISITS])
    hi = np.array([v.window_hi for v in VISITS])
    target = np.array([v.target_day for v in VISITS])
    # Most visits fall near the target day; the window bounds what the protocol accepts.
    jitter = np.rint(rng.normal(0, (hi - lo) / 6.0, (n, len(VISITS)))).astype(int)
    day = np.clip(target[None, :] + jitter, lo[None, :], hi[None, :])
    day[:, 0] = 1
    missed = rng.random((n, len(VISITS))) < MISSED_VISIT_RATE
    missed[:, 0] = False
    # A patient leaves after the exit day; a completer's last visit is week 96 itself.
    attended = (day < exit_day[:, None]) | ((exit_kind[:, None] == 4) & (np.arange(len(VISITS)) == len(VISITS) - 1))
    attended[:, 0] = True
    attended &= ~missed
    row, col = np.nonzero(attended)
    return {"row": row, "visit_idx": col, "study_day": day[row, col]}


def _with_last_assessment(rng, scheduled, exit_day, died) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The scheduled visits plus, for each death from day 2 on without a scheduled visit in its last days, an
    unscheduled assessment 0-3 days before death; sorted by patient and day."""
    n = len(exit_day)
    back = rng.choice(len(LAST_ASSESSMENT_DAYS_P), n, p=LAST_ASSESSMENT_DAYS_P)
    last_day = np.maximum(exit_day - back, 2)
    latest_visit = np.zeros(n, dtype=int)
    np.maximum.at(latest_visit, scheduled["row"], scheduled["study_day"])
    extra = np.flatnonzero(died & (exit_day >= 2) & (latest_visit < last_day))
    row = np.concatenate([scheduled["row"], extra])
    visit_idx = np.concatenate([scheduled["visit_idx"], np.full(len(extra), UNSCHEDULED)])
    day = np.concatenate([scheduled["study_day"], last_day[extra]])
    order = np.lexsort((day, row))
    return row[order], visit_idx[order], day[order]


def _severity(rng, frailty, decompensated, row, day, exit_day, exit_kind) -> np.ndarray:
    """Latent severity at each assessment: recovery (slower in sicker patients) from the entry severity
    towards the patient's floor, worsening before death or transplant."""
    n = len(frailty)
    severity0 = 1.0 + 0.18 * frailty
    floor = np.where(decompensated, rng.uniform(0.3, 0.6, n), np.abs(rng.normal(0.0, 0.05, n)))
    tau = rng.lognormal(np.log(40.0) + 0.15 * frailty, 0.4)
    t = day.astype(float) - 1.0
    recovering = floor[row] + (severity0[row] - floor[row]) * np.exp(-t / tau[row])
    bad_exit = (exit_kind[row] == 0) | (exit_kind[row] == 1)
    to_event = np.maximum(exit_day[row] - 1 - t, 0.0)
    # Worsening before death or transplant starts after day 1 (see the module docstring).
    started = 1.0 - np.exp(-t / 3.0)
    worsening = np.where(bad_exit, started * (0.35 * np.exp(-to_event / 14.0) + 0.15 * np.exp(-to_event / 60.0)), 0.0)
    return np.clip(recovering + worsening + rng.normal(0, 0.04, len(row)), 0.0, 1.45)
