# survival::lung: status 2 = dead -> event 1; sex as the group (Male = reference). Also the
# subgroup (forest) fixture: per-level Efron HR and the treatment x subgroup likelihood-ratio test.
source("_common.R")
l <- survival::lung
d <- data.frame(usubjid = sprintf("L%03d", seq_len(nrow(l))), time_days = l$time, event = l$status - 1,
                arm = ifelse(l$sex == 1, "Male", "Female"),
                age_group = ifelse(l$age >= 65, ">=65", "<65"),
                ecog = ifelse(is.na(l$ph.ecog), NA, ifelse(l$ph.ecog >= 2, "2+", as.character(l$ph.ecog))))
write_fixtures(d, "lung", c("Male", "Female"), c(180, 365, 730), c(365, 730))

sub <- NULL
for (v in c("age_group", "ecog")) {
  dv <- d[!is.na(d[[v]]), ]
  dv$arm <- factor(dv$arm, levels = c("Male", "Female"))
  dv$s <- factor(dv[[v]])
  full <- coxph(Surv(time_days, event) ~ arm * s, data = dv, ties = "efron")
  base <- coxph(Surv(time_days, event) ~ arm + s, data = dv, ties = "efron")
  lr <- 2 * (full$loglik[2] - base$loglik[2])
  ddf <- length(coef(full)) - length(coef(base))
  for (lev in levels(dv$s)) {
    r <- cox_rows(Surv(time_days, event) ~ arm, dv[dv$s == lev, ], c("Male", "Female"))
    sub <- rbind(sub, data.frame(variable = v, level = lev, r[, c("group", "hr", "lower", "upper", "p")],
                                 interaction_p = pchisq(lr, ddf, lower.tail = FALSE)))
  }
}
out(sub, "lung", "subgroup")
