# Reference numbers for tests/domain/test_competing_risks_gray.py: Gray's test (cmprsk::cuminc$Tests), the
# Aalen-Johansen cumulative incidence with its pointwise CI (survival::survfit on a multi-state Surv) and
# cmprsk's variance of it (cuminc(...)$var, read at every time by cmprsk::timepoints).
# Input convention as the dashboard's: time_days, event_type (0 censored, 1 death, 2 transplant), arm.
# Data sets: ties_cr (ties_cr_data.csv, hand-made), cr_heavy_ties (three arms, times on a weekly grid),
# cr_no_cause (5:2, Placebo has no deaths), cr_sim (the project's simulator, competing_risks_sim.py).
# Run: cd tests/domain/reference && Rscript competing_risks.R   (cmprsk 2.2-11, survival 3.5-3, Debian)
suppressPackageStartupMessages({library(survival); library(cmprsk)})

set.seed(17)
heavy <- data.frame(arm = rep(c("A", "B", "C"), c(30, 12, 18)))
heavy$time_days <- 7 * sample(1:6, nrow(heavy), replace = TRUE)
heavy$event_type <- sample(0:2, nrow(heavy), replace = TRUE, prob = c(0.3, 0.45, 0.25))
heavy$usubjid <- sprintf("H%03d", seq_len(nrow(heavy)))
write.csv(heavy[, c("usubjid", "time_days", "event_type", "arm")], "cr_heavy_ties_data.csv", row.names = FALSE)

set.seed(29)
no_cause <- data.frame(arm = rep(c("UC-MSC", "Placebo"), c(25, 10)))
no_cause$time_days <- round(rexp(nrow(no_cause), 1 / 60)) + 1
no_cause$event_type <- c(sample(0:2, 25, TRUE, c(0.5, 0.35, 0.15)), sample(c(0, 2), 10, TRUE, c(0.6, 0.4)))
no_cause$usubjid <- sprintf("N%03d", seq_len(nrow(no_cause)))
write.csv(no_cause[, c("usubjid", "time_days", "event_type", "arm")], "cr_no_cause_data.csv", row.names = FALSE)

gray_rows <- function(d, rho) {
  tests <- cuminc(d$time_days, d$event_type, d$arm, rho = rho, cencode = 0)$Tests
  data.frame(cause = as.integer(rownames(tests)), rho = rho, statistic = tests[, "stat"], df = tests[, "df"],
             p = tests[, "pv"])
}

# survfit's multi-state std.err is the infinitesimal-jackknife SE of pstate itself (logse = FALSE) and its
# default conf.type is "log": exp(log(p) -/+ z * se / p), the upper limit capped at 1, NA where p = 0.
cif_rows <- function(d) {
  aj <- survfit(Surv(time_days, factor(event_type)) ~ arm, data = d)
  stopifnot(identical(aj$conf.type, "log"), !aj$logse)
  group <- sub("^arm=", "", rep(names(aj$strata), aj$strata))
  ci <- cuminc(d$time_days, d$event_type, d$arm, cencode = 0)
  rows <- NULL
  for (cause in c(1, 2)) {
    k <- which(aj$states == as.character(cause))
    cmprsk_var <- rep(NA_real_, length(aj$time))
    for (g in unique(group)) {
      at <- group == g
      cmprsk_var[at] <- timepoints(ci[paste(g, cause)], aj$time[at])$var[1, ]
    }
    rows <- rbind(rows, data.frame(cause = cause, group = group, time = aj$time, cif = aj$pstate[, k],
                                   std_err = aj$std.err[, k], lower = aj$lower[, k], upper = aj$upper[, k],
                                   cmprsk_var = cmprsk_var))
  }
  rows
}

# summary(fit, times=): the curve, SE and CI at given days (rows beyond a group's follow-up are dropped).
cif_at_rows <- function(d, times) {
  s <- summary(survfit(Surv(time_days, factor(event_type)) ~ arm, data = d), times = times)
  rows <- NULL
  for (cause in c(1, 2)) {
    k <- which(s$states == as.character(cause))
    rows <- rbind(rows, data.frame(cause = cause, group = sub("^arm=", "", as.character(s$strata)), day = s$time,
                                   cif = s$pstate[, k], std_err = s$std.err[, k], lower = s$lower[, k],
                                   upper = s$upper[, k]))
  }
  rows
}

for (name in c("ties_cr", "cr_heavy_ties", "cr_no_cause", "cr_sim")) {
  d <- read.csv(paste0(name, "_data.csv"), stringsAsFactors = FALSE)
  write.csv(rbind(gray_rows(d, 0), gray_rows(d, 1)), paste0(name, "_gray.csv"), row.names = FALSE)
  write.csv(cif_rows(d), paste0(name, "_cif_ci.csv"), row.names = FALSE)
}
write.csv(cif_at_rows(read.csv("cr_sim_data.csv"), c(1, 28, 90, 168, 336, 600)), "cr_sim_cif_at.csv", row.names = FALSE)
