# Cox with a group that has no events (C): R's coxph keeps C, whose coefficient diverges (-> -Inf), and
# reports B vs A from that fit, which equals the fit without C (an event-free group only thins the risk
# sets, and its weight exp(beta_C) -> 0). survdiff still tests all three groups.
source("_common.R")
d <- data.frame(usubjid = sprintf("E%02d", 1:10), time_days = c(2, 4, 6, 8, 1, 3, 5, 7, 3, 6),
                event = c(1, 1, 0, 1, 1, 0, 1, 1, 0, 0), arm = c(rep("A", 4), rep("B", 4), "C", "C"))
write.csv(d, "event_free_data.csv", row.names = FALSE)
full <- suppressWarnings(cox_rows(Surv(time_days, event) ~ arm, d, c("A", "B", "C")))
without_c <- cox_rows(Surv(time_days, event) ~ arm, d[d$arm != "C", ], c("A", "B"))
stopifnot(all(abs(unlist(full[1, c("hr", "lower", "upper", "p")]) -
                  unlist(without_c[1, c("hr", "lower", "upper", "p")])) < 1e-8))
out(full[1, ], "event_free", "cox")
sd <- survdiff(Surv(time_days, event) ~ arm, data = d)
out(data.frame(chi2 = sd$chisq, df = 2, p = pchisq(sd$chisq, 2, lower.tail = FALSE)), "event_free", "logrank")


# A coefficient that diverges although its group has events: D's two deaths come before anyone else's, so
# its likelihood keeps rising with beta_D (monotone likelihood). B vs A is again R's full-model value.
m <- rbind(d[d$arm != "C", ], data.frame(usubjid = c("E11", "E12"), time_days = c(0.5, 0.7), event = 1, arm = "D"))
write.csv(m, "monotone_data.csv", row.names = FALSE)
fit <- suppressWarnings(cox_rows(Surv(time_days, event) ~ arm, m, c("A", "B", "D")))
stopifnot(abs(fit$hr[2]) > 1e6)
out(fit[1, ], "monotone", "cox")

# A group at risk at no event time (B: censored before the first event) has expected 0; survdiff leaves it
# out of the test, so the chi-square has one degree of freedom less.
n <- data.frame(usubjid = sprintf("N%02d", 1:10), time_days = c(5, 6, 7, 8, 1, 2, 4, 6, 9, 3),
                event = c(1, 1, 0, 1, 0, 0, 1, 0, 1, 1), arm = c(rep("A", 4), "B", "B", rep("C", 4)))
write.csv(n, "never_at_risk_data.csv", row.names = FALSE)
sd <- survdiff(Surv(time_days, event) ~ arm, data = n)
k <- sum(sd$exp > 0)
out(data.frame(chi2 = sd$chisq, df = k - 1, p = pchisq(sd$chisq, k - 1, lower.tail = FALSE)), "never_at_risk", "logrank")
