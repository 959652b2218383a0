"""Pure customer-analysis algorithms: pandas / numpy / scipy / scikit-learn, no Django.

One algorithm per module; each takes DataFrames and returns DataFrames or frozen
dataclasses so the services layer can store results and tests can check them by hand.
"""
