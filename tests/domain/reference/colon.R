# survival::colon, deaths (etype == 2) among women (sex == 0), rx as the group (Obs = reference) and
# extent <= 1 as the subgroup. Two cells have no deaths (Obs and Lev+5FU with extent <= 1), so the
# interaction model's coefficients diverge; coxph stops with a large beta and a finite loglik, and the
# likelihood-ratio test of rx x subgroup is still defined. Fixture: that LRT, and each model's loglik;
# also with one arm x subgroup cell emptied of patients.
source("_common.R")
c2 <- survival::colon[survival::colon$etype == 2 & survival::colon$sex == 0, ]
d <- data.frame(usubjid = sprintf("C%04d", c2$id), time_days = c2$time, event = c2$status,
                arm = as.character(c2$rx), extent_le1 = ifelse(c2$extent <= 1, "yes", "no"))
write.csv(d, "colon_data.csv", row.names = FALSE)
dv <- d
dv$arm <- factor(dv$arm, levels = c("Obs", "Lev", "Lev+5FU"))
dv$s <- factor(dv$extent_le1)
ctl <- coxph.control(eps = 1e-10, iter.max = 100)
lrt <- function(dv, case) {
  full <- suppressWarnings(coxph(Surv(time_days, event) ~ arm * s, data = dv, ties = "efron", control = ctl))
  base <- coxph(Surv(time_days, event) ~ arm + s, data = dv, ties = "efron", control = ctl)
  lr <- 2 * (full$loglik[2] - base$loglik[2])
  ddf <- sum(!is.na(coef(full))) - sum(!is.na(coef(base)))  # an interaction without patients is NA
  data.frame(case = case, loglik_base = base$loglik[2], loglik_full = full$loglik[2], chi2 = lr, df = ddf,
             interaction_p = pchisq(lr, ddf, lower.tail = FALSE))
}
# Second case: no Lev+5FU patient with extent <= 1, so that interaction term is not identifiable (1 df).
out(rbind(lrt(dv, "all"), lrt(dv[!(dv$arm == "Lev+5FU" & dv$s == "yes"), ], "no Lev+5FU with extent <= 1")),
    "colon", "interaction")
