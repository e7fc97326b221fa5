# Shared writer of survival reference fixtures (sourced by lung.R, veteran.R, ties_cr.R).
# Each dataset script builds `d` (usubjid, time_days, event, arm, ...) and calls write_fixtures();
# outputs are CSVs named <name>_<what>.csv next to this script. Run: Rscript <name>.R
suppressPackageStartupMessages(library(survival))

out <- function(x, name, what) write.csv(x, paste0(name, "_", what, ".csv"), row.names = FALSE)

strata_group <- function(fit, n) {
  if (is.null(fit$strata)) rep("All patients", n) else sub("^arm=", "", rep(names(fit$strata), fit$strata))
}

km_rows <- function(fit, ct) {
  data.frame(conf_type = ct, group = strata_group(fit, length(fit$time)), time = fit$time,
             at_risk = fit$n.risk, events = fit$n.event, censored = fit$n.censor, survival = fit$surv,
             std_err = fit$surv * fit$std.err, lower = fit$lower, upper = fit$upper)
}

median_rows <- function(fit, ct) {
  tab <- summary(fit)$table
  if (is.null(dim(tab))) tab <- t(as.matrix(tab))
  q <- quantile(fit, probs = c(0.25, 0.5, 0.75))
  as_mat <- function(m) if (is.null(dim(m))) t(as.matrix(m)) else m
  qq <- as_mat(q$quantile); ql <- as_mat(q$lower); qu <- as_mat(q$upper)
  data.frame(conf_type = ct, group = if (is.null(fit$strata)) "All patients" else sub("^arm=", "", names(fit$strata)),
             n = tab[, "n.max"], events = tab[, "events"], median = tab[, "median"],
             median_lower = tab[, grep("LCL", colnames(tab))], median_upper = tab[, grep("UCL", colnames(tab))],
             q25 = qq[, 1], q50 = qq[, 2], q75 = qq[, 3],
             q25_lower = ql[, 1], q50_lower = ql[, 2], q75_lower = ql[, 3],
             q25_upper = qu[, 1], q50_upper = qu[, 2], q75_upper = qu[, 3])
}

milestone_rows <- function(fit, ct, times) {
  s <- summary(fit, times = times)
  grp <- if (is.null(s$strata)) rep("All patients", length(s$time)) else sub("^arm=", "", as.character(s$strata))
  data.frame(conf_type = ct, group = grp, day = s$time, survival = s$surv, std_err = s$std.err,
             lower = s$lower, upper = s$upper)
}

rmean_rows <- function(fit, horizon) {
  tab <- summary(fit, rmean = horizon)$table
  if (is.null(dim(tab))) tab <- t(as.matrix(tab))
  data.frame(horizon = horizon, group = if (is.null(fit$strata)) "All patients" else sub("^arm=", "", names(fit$strata)),
             rmst = tab[, "rmean"], se = tab[, "se(rmean)"])
}

cox_rows <- function(fml, d, levels) {
  d$arm <- factor(d$arm, levels = levels)
  fit <- coxph(fml, data = d, ties = "efron", control = coxph.control(eps = 1e-10, iter.max = 100))
  s <- summary(fit)
  data.frame(group = levels[-1], reference = levels[1], hr = s$conf.int[, 1],
             lower = s$conf.int[, 3], upper = s$conf.int[, 4], p = s$coefficients[, 5],
             loglik = fit$loglik[2])
}

# levels: control (reference) first, as coxph's factor coding wants it.
write_fixtures <- function(d, name, levels, milestone_days, horizons) {
  write.csv(d, paste0(name, "_data.csv"), row.names = FALSE)
  d$arm <- factor(d$arm, levels = levels)
  km <- md <- ms <- NULL
  for (ct in c("log-log", "log", "plain")) {
    for (fml in list(Surv(time_days, event) ~ arm, Surv(time_days, event) ~ 1)) {
      fit <- survfit(fml, data = d, conf.type = ct)
      km <- rbind(km, km_rows(fit, ct)); md <- rbind(md, median_rows(fit, ct))
      ms <- rbind(ms, milestone_rows(fit, ct, milestone_days))
    }
  }
  fit90 <- survfit(Surv(time_days, event) ~ arm, data = d, conf.type = "log-log", conf.int = 0.90)
  out(km, name, "km"); out(md, name, "median"); out(ms, name, "milestones")
  out(km_rows(fit90, "log-log"), name, "km_90")
  rm <- NULL
  for (h in horizons) {
    rm <- rbind(rm, rmean_rows(survfit(Surv(time_days, event) ~ arm, data = d), h),
                rmean_rows(survfit(Surv(time_days, event) ~ 1, data = d), h))
  }
  out(rm, name, "rmst")
  sd <- survdiff(Surv(time_days, event) ~ arm, data = d)
  k <- length(sd$n)
  out(data.frame(chi2 = sd$chisq, df = k - 1, p = pchisq(sd$chisq, k - 1, lower.tail = FALSE)), name, "logrank")
  out(cox_rows(Surv(time_days, event) ~ arm, d, levels), name, "cox")
}
