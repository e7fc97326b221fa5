# Reference numbers for tests/domain/test_safety.py, computed with base R only.
#
# Run from the repository root:  Rscript tests/domain/reference/safety_reference.R
# Writes tests/domain/reference/safety_reference.csv (case, quantity, value).
#
# The counts below are those of the hand-built fixture in test_safety.py (the comment on each case
# says which rows of the fixture give it). Sources of each number:
#   - Clopper-Pearson CI: binom.test(x, n)$conf.int
#   - Newcombe hybrid score CI (method 10, Newcombe 1998): Wilson limits from
#     prop.test(x, n, correct = FALSE)$conf.int, combined by Newcombe's formula written out here
#   - p: fisher.test(2 x 2 table)$p.value (two-sided)
#   - exact Poisson CI: poisson.test(x, T)$conf.int
#   - t CI of a mean: t.test(x)$conf.int

rows <- list()
add <- function(case, quantity, value) {
  rows[[length(rows) + 1]] <<- data.frame(case = case, quantity = quantity, value = value)
}

binom_case <- function(case, x, n) {
  ci <- binom.test(x, n)$conf.int
  add(case, "ci_lower", ci[1]); add(case, "ci_upper", ci[2])
}

# suppressWarnings: the small-sample warning concerns prop.test's chi-square p, not the Wilson limits.
wilson <- function(x, n) as.numeric(suppressWarnings(prop.test(x, n, correct = FALSE))$conf.int)

newcombe_case <- function(case, x1, n1, x2, n2) {
  p1 <- x1 / n1; p2 <- x2 / n2
  w1 <- wilson(x1, n1); w2 <- wilson(x2, n2)
  d <- p1 - p2
  add(case, "risk_difference", d)
  add(case, "rd_lower", d - sqrt((p1 - w1[1])^2 + (w2[2] - p2)^2))
  add(case, "rd_upper", d + sqrt((w1[2] - p1)^2 + (p2 - w2[1])^2))
  add(case, "p", fisher.test(matrix(c(x1, n1 - x1, x2, n2 - x2), nrow = 2, byrow = TRUE))$p.value)
}

poisson_case <- function(case, x, person_years) {
  ci <- poisson.test(x, person_years)$conf.int * 100
  add(case, "rate_lower", ci[1]); add(case, "rate_upper", ci[2])
}

# Fever >= 38.0: infusion 1 UC-MSC 3/10 (A1, A2, A4), Placebo 0/6.
binom_case("cp_3_10", 3, 10); binom_case("cp_0_6", 0, 6)
newcombe_case("rd_inf1_38", 3, 10, 0, 6)
# Infusion 2: UC-MSC 1/9 (A6; A7 not measured), Placebo 1/6 (P2).
binom_case("cp_1_9", 1, 9); binom_case("cp_1_6", 1, 6)
newcombe_case("rd_inf2_38", 1, 9, 1, 6)
# Infusion 3: UC-MSC 0/10, Placebo 0/5 (P3 had two infusions).
binom_case("cp_0_10", 0, 10); binom_case("cp_0_5", 0, 5)
newcombe_case("rd_inf3_38", 0, 10, 0, 5)
# Per patient >= 38.0: UC-MSC 4/10 (A1, A2, A4, A6), Placebo 1/6 (P2).
binom_case("cp_4_10", 4, 10)
newcombe_case("rd_patient_38", 4, 10, 1, 6)
# Threshold 37.3, infusion 1: UC-MSC 4/10 (adds A3 at exactly 37.3), Placebo 1/6 (P1).
newcombe_case("rd_inf1_373", 4, 10, 1, 6)
# Per patient >= 37.3: UC-MSC 5/10, Placebo 2/6.
binom_case("cp_5_10", 5, 10); binom_case("cp_2_6", 2, 6)
newcombe_case("rd_patient_373", 5, 10, 2, 6)
# Newcombe (1998) Table II example: 56/70 vs 48/80; published method 10 CI 0.0524 to 0.3339.
newcombe_case("rd_newcombe_paper", 56, 70, 48, 80)

# Exposure-adjusted rates (fixture: UC-MSC 3 patients, 1278.375 days = 3.5 patient-years, 5 events in
# 2 patients; Placebo 2 patients, 730.5 days = 2 patient-years, 1 event in 1 patient).
poisson_case("pois_5_3.5", 5, 3.5); poisson_case("pois_2_3.5", 2, 3.5)
poisson_case("pois_1_2", 1, 2); poisson_case("pois_0_2", 0, 2)

# Temperatures at one time point (fixture hour 2 of infusion 1, UC-MSC: A1 38.5, others 36.6 x 9).
temp <- c(38.5, rep(36.6, 9))
tt <- t.test(temp)$conf.int
add("t_inf1_h2", "mean", mean(temp)); add("t_inf1_h2", "ci_lower", tt[1]); add("t_inf1_h2", "ci_upper", tt[2])

out <- do.call(rbind, rows)
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
write.csv(transform(out, value = trimws(formatC(value, digits = 15, format = "g"))),
          file.path(here, "safety_reference.csv"), row.names = FALSE, quote = FALSE)
