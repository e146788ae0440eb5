"""One module per dock panel; each panel observes the current Session and holds no training state."""
