"""Export-market and compliance reports: FSMA 204, one step back / one step forward, EUDR
plots and the Vietnamese minimum fields."""
