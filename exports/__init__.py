"""File writers: CSV (UTF-8 with BOM, formula-guarded), XLSX (streamed) and JSON, and the
province report's workbook. Plain functions over tables; they import nothing of the survey."""
