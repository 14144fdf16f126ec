"""Credit reports (信用报告): the standard public credit report and the special report (专项信用报告) that
replaces certificates of no violation, frozen as signed canonical JSON and rendered to a signed PDF."""
