"""Alert salience: Alertmanager webhook models, the alert book (state, history, SQLite), the
scorer."""
