"""Small mechanisms every stage shares, each in one place: writing files whole
(:mod:`.files`) and keeping text inert in spreadsheets (:mod:`.cells`)."""
