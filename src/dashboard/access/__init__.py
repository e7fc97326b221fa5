"""Access layer: who the viewer is, what the role may see, and the audit trail.

Pages get data only through :class:`dashboard.access.trial_view.TrialView`, which is bound to a
viewer and cannot return arm-revealing data to a blinded viewer (DESIGN §4).
"""
