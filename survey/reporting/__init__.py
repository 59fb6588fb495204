"""Agency staff reports, the campaign dashboard and the province report for the Chairman."""
