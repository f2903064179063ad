"""Forecasts an authority publishes and explains: school-canteen attendance weeks ahead.

- `canteens`: reads the canteen service's files as published (Nantes' layout: cp1252 menus,
  `dd/mm/yy` strikes, name mappings) into one history;
- `calendar`: the known-ahead features of a service day (holidays, bridges, menus, strikes...);
- `model`: the regression with named effects, its forecasts, intervals and proposed orders;
- `backtest`: school years replayed with rolling origins, and the metrics the service reads;
- `service`: the inputs as datastore datasets, published forecasts, hand adjustments, and the
  entry in the algorithm register.
"""
