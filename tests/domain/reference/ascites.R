# Reference Clopper-Pearson intervals for tests/domain/test_ascites.py: R binom.test (exact).
# Run: cd tests/domain/reference && Rscript ascites.R   -> ascites_binom.csv
cases <- data.frame(x = c(0, 1, 3, 7, 10, 12), n = c(10, 10, 8, 20, 10, 50))
res <- t(mapply(function(x, n) binom.test(x, n, conf.level = 0.95)$conf.int, cases$x, cases$n))
cases$ci_lower <- res[, 1]
cases$ci_upper <- res[, 2]
write.csv(cases, "ascites_binom.csv", row.names = FALSE)

# Time to resolution with death and transplant competing, for tests/domain/test_ascites.py.
# ascites_resolution_data.csv: ascites_aggregates.ascites_resolution_times on the 70-patient demo trial
# (seed 2026, cut 2026-01-13), one row per patient with ascites at baseline. The competing-risks rows are
# derived here on their own: resolved (event 1) at time_days; else died (2) or transplanted (3) on exit_day;
# else censored (0) at time_days.  -> ascites_resolution_cif.csv, ascites_resolution_gray.csv
suppressPackageStartupMessages({library(survival); library(cmprsk)})
r <- read.csv("ascites_resolution_data.csv", stringsAsFactors = FALSE)
r$event_type <- ifelse(r$event == 1, 1, ifelse(r$status == "died", 2, ifelse(r$status == "transplanted", 3, 0)))
r$time <- ifelse(r$event_type %in% c(2, 3), r$exit_day, r$time_days)
r$group <- factor(r$group, levels = c("UC-MSC", "Placebo"))
fit <- survfit(Surv(time, factor(event_type, levels = 0:3)) ~ group, data = r)
days <- c(W4 = 29, W12 = 85, W24 = 169, W48 = 337)
# extend = TRUE carries each curve past its group's last time; that value is the estimate only when the last
# patients at risk all had an event (nobody left who could change it): otherwise it is unknown there (NA).
s <- summary(fit, times = days, extend = TRUE)
k <- which(s$states == "1")
cif <- data.frame(group = sub("^group=", "", as.character(s$strata)), day = s$time, cif = s$pstate[, k],
                  std_err = s$std.err[, k], lower = s$lower[, k], upper = s$upper[, k])
open_end <- sapply(split(r, r$group), function(g) any(g$event_type[g$time == max(g$time)] == 0))
last <- sapply(split(r, r$group), function(g) max(g$time))
unknown <- open_end[cif$group] & cif$day > last[cif$group]
cif[unknown, c("cif", "std_err", "lower", "upper")] <- NA
write.csv(cif, "ascites_resolution_cif.csv", row.names = FALSE)
g <- cuminc(r$time, r$event_type, r$group, cencode = 0)$Tests
write.csv(data.frame(cause = 1, statistic = g["1", "stat"], p = g["1", "pv"], df = g["1", "df"]),
          "ascites_resolution_gray.csv", row.names = FALSE)
