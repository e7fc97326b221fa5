"""Every page's sections in one registry: the controls that switch what a page shows (segmented controls,
"More" panels, toggles that add a view) with every value they take.

Pages build those controls from here, and the page contract test walks every value of every control for
every role, on a one-cut and a two-cut database and with an empty selection, so no state of a page is
left untested. Page files and the codes pages share (endpoint keys) are named here too.
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.domain.endpoints import COMPETING_RISKS, OVERALL_SURVIVAL, TRANSPLANT_FREE

PATIENT_PAGE = "pages/patient.py"  # the files of ui/navigation.py's PAGES, for links between pages
PATIENTS_PAGE = "pages/patients.py"


@dataclass(frozen=True)
class Control:
    """A widget (by key) whose value decides which section of ``page`` (a URL path) is shown."""

    page: str
    key: str
    label: str
    options: tuple
    default: object = None
    depends_on: tuple[tuple[str, object], ...] = ()  # (key, value) other controls must hold to show this one


LAB_VIEWS = ("Keep the dead", "Summary table", "Arm comparison", "Box plots", "Trajectories", "Shift table", "Liver safety")
LAB_SCALES = ("value", "chg", "pchg")
SURVIVAL_ENDPOINTS = (OVERALL_SURVIVAL, TRANSPLANT_FREE, COMPETING_RISKS)
SURVIVAL_MORE = ("Subgroup forest plot", "Curves as the data accrued", "Compare with an earlier cut")
SAFETY_SECTIONS = ("Temperature 0-24 h", "Fever", "Rash and allergy", "Reaction listing", "AE overview",
                   "AEs by SOC and term", "AEs by worst grade", "Rates per 100 patient-years", "SAEs and deaths",
                   "Safety signals", "Time to first SAE", "Events after infusion")
STATISTICS = ("mean", "median")
# /ascites: the shift table, time to resolution and the Sankey keep the dead (default) or count survivors only.
ASCITES_POPULATIONS = ("Keep the dead", "Survivors only")

CONTROLS: tuple[Control, ...] = (
    Control("labs", "labs_view", "View", LAB_VIEWS, LAB_VIEWS[0]),
    Control("labs", "labs_mode", "Scale", LAB_SCALES, "value"),
    Control("labs", "labs_stat", "Statistic", STATISTICS, "mean"),
    Control("ascites", "ascites_stat", "Statistic", STATISTICS, "mean"),
    Control("ascites", "ascites_population", "Deaths and transplants", ASCITES_POPULATIONS, ASCITES_POPULATIONS[0]),
    Control("survival", "survival_endpoint", "Endpoint", SURVIVAL_ENDPOINTS, OVERALL_SURVIVAL),
    Control("survival", "survival_more", "More", SURVIVAL_MORE, None),
    Control("safety", "safety_section", "Section", SAFETY_SECTIONS, SAFETY_SECTIONS[0]),
    Control("safety", "safety_temperature_lines", "Show individual patients", (False, True), False,
            depends_on=(("safety_section", SAFETY_SECTIONS[0]),)),
)


def control(key: str) -> Control:
    """The registered control with widget key ``key``."""
    return next(c for c in CONTROLS if c.key == key)
