# Reference numbers for the CDISC pilot's time to first dermatologic event (ADTTE PARAMCD TTDE),
# read straight from the delivered XPORT file, independent of the dashboard's importer.
# Run from this folder: Rscript pilot_ttde.R  (writes pilot_ttde.csv)
library(foreign)
library(survival)
d <- read.xport("../../../../shared/data/cdiscpilot01/adtte.xpt")
d <- d[d$PARAMCD == "TTDE", ]
d$event <- 1 - d$CNSR
d$arm <- factor(d$TRTP, levels = c("Xanomeline High Dose", "Xanomeline Low Dose", "Placebo"))
d$arm <- relevel(d$arm, ref = "Placebo")
fit <- survfit(Surv(AVAL, event) ~ arm, data = d, conf.type = "log-log")
tab <- summary(fit)$table
lr <- survdiff(Surv(AVAL, event) ~ arm, data = d)
cox <- coxph(Surv(AVAL, event) ~ arm, data = d, ties = "efron")
ci <- exp(confint(cox))
s <- summary(cox)$coefficients
rows <- data.frame(
  quantity = c(paste0("median:", sub("arm=", "", rownames(tab))),
               paste0("events:", sub("arm=", "", rownames(tab))),
               "logrank_chi2", "logrank_p",
               paste0("hr:", sub("^arm", "", rownames(s))),
               paste0("hr_lower:", sub("^arm", "", rownames(s))),
               paste0("hr_upper:", sub("^arm", "", rownames(s))),
               paste0("p:", sub("^arm", "", rownames(s)))),
  value = c(tab[, "median"], tab[, "events"], lr$chisq, pchisq(lr$chisq, length(lr$n) - 1, lower.tail = FALSE),
            s[, "exp(coef)"], ci[, 1], ci[, 2], s[, "Pr(>|z|)"]))
write.csv(rows, "pilot_ttde.csv", row.names = FALSE)
