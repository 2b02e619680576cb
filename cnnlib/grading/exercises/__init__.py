"""One module per exercise notebook: ``ex<NN_slug>.py`` declares ``EXERCISE``, its questions.

Adding an exercise means writing ``exercises/sources/NN_slug.ipynb`` and ``exNN_slug.py`` here;
``cnnlib.grading.load_exercise("NN_slug")`` finds it.
"""
