"""The report's charts: matplotlib figures rendered offline to inline SVG, one module per kind of chart."""
