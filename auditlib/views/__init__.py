"""What the notebooks show: the inspection report, the county overview and the auditor's
interactive panel (explore), all calling the rules and the outputs."""
