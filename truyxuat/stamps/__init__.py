"""Stamps (tem truy xuất): trace codes, print runs, anti-counterfeit PINs, carriers and printing."""
