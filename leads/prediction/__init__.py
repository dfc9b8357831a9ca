"""Learned conversion prediction: decision support for reps, never the decision itself.

Training (offline, `manage.py train_conversion_model`) fits a logistic regression with
scikit-learn on a tenant's closed leads (converted = 1, disqualified = 0) and stores it as
plain JSON on PredictionModel: how each lead becomes a row of numbers (`features`), one
coefficient per column and the intercept. Scoring reads that JSON and computes a dot product
and a sigmoid in pure Python, so requests never import scikit-learn or numpy and the same
lead always gets the same number.

Every column is centred on the training average (one-hot columns on their frequency, numbers
standardised), so a feature's contribution, coefficient x value summed over its columns, says
how far this lead's value moves the log-odds away from the average lead's. The reason names the
largest contributions.

Without an active model the tenant falls back to the rule score (probability = score_total / 100)
and says so. Thresholds and limits are settings (defaults in DEFAULTS below):

PREDICTION_MIN_EACH_OUTCOME  converted and disqualified leads each needed to train (20)
PREDICTION_TRANSFER_AT       probability from which the advice is "transfer to sales" (0.6, the
                             strict pipeline's bar for conversion)
PREDICTION_DROP_BELOW        probability under which the advice is "drop lead" (0.2)
PREDICTION_MAX_CATEGORIES    most frequent values kept per categorical feature; the rest is "other" (10)
PREDICTION_MIN_SUPPORT       closed leads a category, custom field or activity kind needs to become a feature (5)
PREDICTION_MAX_CUSTOM_FIELDS custom field keys used at most, the most often filled first (20)
PREDICTION_HOLDOUT           share of examples held out (stratified) to measure ROC AUC (0.25)
PREDICTION_C                 inverse L2 regularisation strength of the regression (1.0)
"""

