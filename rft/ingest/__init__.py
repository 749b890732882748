"""Bring your own generations: question and path files made elsewhere (`generation_files`), checked
row by row into valid rows and quarantined ones with a reason (`generations`), and which rows of
`rft.questions` an import may write (`question_ownership`). May import `rft.filter`, `rft.models`.
"""
