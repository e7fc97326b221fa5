"""Reports layer: documents built outside the browser (the meeting deck), from a viewer-bound TrialView.

No Streamlit here: the command line and the app's button call the same builders, so a deck is the same
whichever way it was made. Content comes from the domain and figure layers; nothing is recomputed.
"""
