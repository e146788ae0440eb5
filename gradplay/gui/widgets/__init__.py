"""Small reusable widgets of the setup panel (number fields, the optimizer form, the layer editor)."""
