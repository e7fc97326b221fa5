# Reference numbers for tests/domain/test_safety_signals.py.
#
# Run from the repository root:  Rscript tests/domain/reference/safety_signals.R
# Writes tests/domain/reference/safety_signals.csv (case, quantity, value). Needs Debian's r-cran-epi
# (Newcombe's method 10) and r-cran-metafor (the Katz log risk ratio); the rest is base R.
#
# The counts are those of the hand-built fixture in test_safety_signals.py (UC-MSC 12 patients A01-A12,
# Placebo 8 patients P01-P08; the comment on each case names the patients). Sources of each number:
#   - Newcombe hybrid score CI (method 10, Newcombe 1998): Epi::ci.pd(method = "Nc")
#   - risk ratio and Katz log CI: metafor::escalc(measure = "RR") (1/2 added to each cell of a table with a
#     zero cell: add = 1/2, to = "only0", its defaults), CI exp(yi -+ qnorm(0.975) sqrt(vi))
#   - p: fisher.test(2 x 2 table)$p.value (two-sided)
#   - Benjamini-Hochberg: p.adjust(p, method = "BH")
#   - double FDR (Mehrotra and Heyse 2004): written out below with p.adjust, as MHTmult::DFDR.p.adjust does
#   - exact Poisson CI: poisson.test(x, T)$conf.int

suppressPackageStartupMessages({ library(Epi); library(metafor) })

rows <- list()
add <- function(case, quantity, value) {
  rows[[length(rows) + 1]] <<- data.frame(case = case, quantity = quantity, value = value)
}

table_case <- function(case, x1, n1, x2, n2) {
  nc <- ci.pd(x1, x2, n1 - x1, n2 - x2, method = "Nc", print = FALSE)
  add(case, "risk_difference", nc[1, "diff"])
  add(case, "rd_lower", nc[1, "2.5%"]); add(case, "rd_upper", nc[1, "97.5%"])
  rr <- escalc(measure = "RR", ai = x1, n1i = n1, ci = x2, n2i = n2)
  add(case, "risk_ratio", exp(rr$yi))
  add(case, "rr_lower", exp(rr$yi - qnorm(0.975) * sqrt(rr$vi)))
  add(case, "rr_upper", exp(rr$yi + qnorm(0.975) * sqrt(rr$vi)))
  p <- fisher.test(matrix(c(x1, n1 - x1, x2, n2 - x2), nrow = 2, byrow = TRUE))$p.value
  add(case, "p", p)
  p
}

# Preferred terms (UC-MSC x/12 vs Placebo x/8).
pt <- data.frame(
  soc = c("General", "General", "Infections", "Infections", "Hepatobiliary", "Skin"),
  term = c("Pyrexia", "Fatigue", "Pneumonia", "Sepsis", "Hepatic failure", "Rash"),
  x1 = c(6, 3, 8, 2, 2, 1), x2 = c(1, 2, 0, 1, 3, 0))
# Pyrexia A01-A04, A07, A08 / P02; Fatigue A01, A09, A10 / P02, P03; Pneumonia A01-A05, A07-A09 / none;
# Sepsis A05, A06 / P01; Hepatic failure A05, A12 / P04-P06; Rash A11 / none.
pt$p <- mapply(function(term, x1, x2) table_case(paste0("pt_", term), x1, 12, x2, 8), pt$term, pt$x1, pt$x2)
# System organ classes: General A01-A04, A07-A10 / P02, P03; Infections A01-A09 / P01; Hepatobiliary and
# Skin as their single PT.
for (s in list(c("General", 8, 2), c("Infections", 9, 1), c("Hepatobiliary", 2, 3), c("Skin", 1, 0))) {
  table_case(paste0("soc_", s[1]), as.numeric(s[2]), 12, as.numeric(s[3]), 8)
}

# Benjamini-Hochberg over the six PTs.
bh <- p.adjust(pt$p, method = "BH")
for (i in seq_len(nrow(pt))) add(paste0("pt_", pt$term[i]), "p_bh", bh[i])

# Double FDR, step 1: an SOC's p is the smallest p of its PTs, BH-adjusted across SOCs; step 2: the PTs' p
# BH-adjusted within their SOC.
double_fdr <- function(soc, p, prefix, names) {
  soc_p <- tapply(p, soc, min)
  soc_adj <- setNames(p.adjust(soc_p, method = "BH"), names(soc_p))
  within <- ave(p, soc, FUN = function(x) p.adjust(x, method = "BH"))
  for (i in seq_along(p)) {
    add(paste0(prefix, names[i]), "soc_p", soc_p[[soc[i]]])
    add(paste0(prefix, names[i]), "soc_p_adj", soc_adj[[soc[i]]])
    add(paste0(prefix, names[i]), "p_adj_in_soc", within[i])
  }
}
double_fdr(pt$soc, pt$p, "pt_", pt$term)

# Mehrotra and Adewale (Stat Med 2012;31:1918), Example 4.1: six body systems' p-values, as reproduced in
# the MHTmult documentation of DFDR.p.adjust.
ma <- list(c(0.031, 0.023, 0.029, 0.005, 0.031, 0.000, 0.874, 0.399, 0.293, 0.077),
           c(0.216, 0.843, 0.864),
           c(1, 0.878, 0.766, 0.598, 0.011, 0.864),
           c(0.889, 0.557, 0.767, 0.009, 0.644),
           c(1, 0.583, 0.147, 0.789, 0.217, 1, 0.02, 0.784, 0.579, 0.439),
           c(0.898, 0.619, 0.193, 0.806, 0.611, 0.526, 0.702, 0.196))
ma_soc <- unlist(lapply(seq_along(ma), function(b) rep(sprintf("B%d", b), length(ma[[b]]))))
ma_name <- unlist(lapply(seq_along(ma), function(b) sprintf("B%d_%02d", b, seq_along(ma[[b]]))))
double_fdr(ma_soc, unlist(ma), "ma_", ma_name)

# Exposure-adjusted rates of the EAIR fixture (days at risk and followed, per 100 patient-years).
poisson_case <- function(case, x, days) {
  ci <- poisson.test(x, days / 365.25)$conf.int * 100
  add(case, "rate", x / (days / 365.25) * 100); add(case, "lower", ci[1]); add(case, "upper", ci[2])
}
# Any AE: UC-MSC 2 patients over 10 + 50 + 300 days at risk, 3 events over 365 + 200 + 300 days;
# Placebo 1 patient over 200 + 100 days, 1 event over 400 + 100 days.
poisson_case("eair_any_active", 2, 360); poisson_case("eaer_any_active", 3, 865)
poisson_case("eair_any_reference", 1, 300); poisson_case("eaer_any_reference", 1, 500)
# Serious: UC-MSC 1 patient over 10 + 200 + 300 days; Placebo 1 patient over 200 + 100 days.
poisson_case("eair_serious_active", 1, 510); poisson_case("eair_serious_reference", 1, 300)
# No fatal event: UC-MSC 0 over 865 days.
poisson_case("eair_fatal_active", 0, 865)

out <- do.call(rbind, rows)
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
write.csv(transform(out, value = trimws(formatC(value, digits = 15, format = "g"))),
          file.path(here, "safety_signals.csv"), row.names = FALSE, quote = FALSE)
