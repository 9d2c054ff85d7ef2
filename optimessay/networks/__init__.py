"""Small networks on real data, trained on a CPU in seconds: does the preconditioner story of the 2-D
landscapes carry over? ``data`` (the tasks), ``models`` (an MLP and the optimizer set-ups),
``train`` (the training loop, lr tuning, a quiet CPU context) and ``experiments`` (the page's four
experiments, each returning its results as data). torch only; scikit-learn for ``data.digits``."""
