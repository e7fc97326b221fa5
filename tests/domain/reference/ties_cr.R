# Hand-made trial with many tied times and competing risks: event_type 0 censored, 1 death,
# 2 transplant; event = any (transplant-free survival). UC-MSC's curve ends flat at exactly 0.5
# (R's quantile() and summary()$table medians differ there); Placebo is flat at 0.5 over [12, 25).
source("_common.R")
uc <- data.frame(time_days = c(4, 4, 4, 9, 9, 9, 9, 14, 14, 30, 30, 50),
                 event_type = c(1, 1, 2, 1, 2, 1, 0, 0, 0, 0, 0, 0))
pl <- data.frame(time_days = c(3, 3, 7, 7, 12, 15, 20, 25, 25, 40),
                 event_type = c(1, 1, 1, 2, 1, 0, 0, 1, 1, 0))
d <- rbind(cbind(arm = "UC-MSC", uc), cbind(arm = "Placebo", pl))
d <- data.frame(usubjid = sprintf("T%03d", seq_len(nrow(d))), time_days = d$time_days,
                event = as.integer(d$event_type > 0), arm = d$arm, event_type = d$event_type)
write_fixtures(d, "ties_cr", c("Placebo", "UC-MSC"), c(5, 10, 20), c(20, 45))

d$arm <- factor(d$arm, levels = c("Placebo", "UC-MSC"))
aj <- survfit(Surv(time_days, factor(event_type)) ~ arm, data = d)
out(data.frame(group = sub("^arm=", "", rep(names(aj$strata), aj$strata)), time = aj$time,
               cif = aj$pstate[, which(aj$states == "1")]), "ties_cr", "cif")
out(cox_rows(Surv(time_days, event_type == 1) ~ arm, d, c("Placebo", "UC-MSC")), "ties_cr", "cs_cox")

# Censoring before the first event (survival 1: log-log CI undefined) and a last event that
# empties the risk set (survival 0: Greenwood variance infinite).
tiny <- data.frame(usubjid = sprintf("S%d", 1:5), time_days = c(1, 2, 3, 3, 4), event = c(0, 1, 1, 0, 1))
write.csv(tiny, "edge_data.csv", row.names = FALSE)
out(do.call(rbind, lapply(c("log-log", "log", "plain"), function(ct)
  km_rows(survfit(Surv(time_days, event) ~ 1, data = tiny, conf.type = ct), ct))), "edge", "km")
# summary(fit, times=) before the first observed time gives survival 1 with CI 1-1 for every conf.type;
# at a time with survival 1 after a censoring it gives the curve's own limits (log-log: NA).
out(do.call(rbind, lapply(c("log-log", "log", "plain"), function(ct)
  milestone_rows(survfit(Surv(time_days, event) ~ 1, data = tiny, conf.type = ct), ct, c(0.5, 1, 1.5, 2, 3.5)))),
  "edge", "milestones")
