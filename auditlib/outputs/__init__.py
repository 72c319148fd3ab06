"""What a run leaves for reviewers: findings.csv, the evidence workbooks, the HTML reports,
the index page and the charts."""
