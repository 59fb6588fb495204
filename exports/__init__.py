"""Aggregation (pandas) and the CSV / XLSX / JSON writers: plain functions over records."""
