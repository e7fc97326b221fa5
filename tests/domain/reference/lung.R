# survival::lung: status 2 = dead -> event 1; sex as the group (Male = reference). Also the
# subgroup (forest) fixture: per-level Efron HR and the treatment x subgroup likelihood-ratio test, after
# levels with fewer than 5 deaths are collapsed (the rule is written out below, independently of the
# Python in dashboard.domain.subgroups). No per-level p-value: the forest plot reports none.
source("_common.R")
l <- survival::lung
d <- data.frame(usubjid = sprintf("L%03d", seq_len(nrow(l))), time_days = l$time, event = l$status - 1,
                arm = ifelse(l$sex == 1, "Male", "Female"),
                age_group = ifelse(l$age >= 65, ">=65", "<65"),
                ecog = ifelse(is.na(l$ph.ecog), NA, ifelse(l$ph.ecog >= 2, "2+", as.character(l$ph.ecog))))
write_fixtures(d, "lung", c("Male", "Female"), c(180, 365, 730), c(365, 730))

K <- 5  # a level with fewer deaths than this is collapsed

# Ordered levels: the level with the fewest events (the first on a tie) joins the neighbour with fewer
# events (the lower one on a tie) until every level has K or more, or one is left; "a to b" names a run.
collapse_ordered <- function(x, event, levels) {
  runs <- as.list(levels[levels %in% x])
  ev <- function() sapply(runs, function(r) sum(event[x %in% r]))
  while (length(runs) > 1 && min(ev()) < K) {
    e <- ev(); i <- which.min(e)
    nb <- c(i - 1, i + 1); nb <- nb[nb >= 1 & nb <= length(runs)]
    j <- nb[which.min(e[nb])]
    lo <- min(i, j); hi <- max(i, j)
    runs[[lo]] <- c(runs[[lo]], runs[[hi]]); runs[[hi]] <- NULL
  }
  name <- sapply(runs, function(r) if (length(r) == 1) r else paste(r[1], "to", r[length(r)]))
  out <- x
  for (k in seq_along(runs)) out[x %in% runs[[k]]] <- name[k]
  factor(out, levels = name)
}

# Nominal levels: those with fewer than K events (and a level already called "Other") become "Other";
# while "Other" has fewer than K, the remaining level with the fewest events (first by name) joins it.
collapse_nominal <- function(x, event) {
  lv <- sort(unique(x), method = "radix")
  e <- sapply(lv, function(l) sum(event[x == l]))
  other <- lv[e < K | lv == "Other"]
  named <- setdiff(lv, other)
  while (length(other) > 0 && length(named) > 0 && sum(e[other]) < K) {
    smallest <- named[order(e[named], named, method = "radix")[1]]
    other <- c(other, smallest); named <- setdiff(named, smallest)
  }
  out <- ifelse(x %in% other, "Other", x)
  factor(out, levels = c(named, if (length(other)) "Other"))
}

s <- data.frame(usubjid = d$usubjid, time_days = d$time_days, event = d$event, arm = d$arm,
                age_group = d$age_group, ecog = d$ecog,
                ecog_raw = as.character(l$ph.ecog), karno = as.character(l$pat.karno), inst = as.character(l$inst),
                region = ifelse(is.na(l$inst), NA, ifelse(l$inst == 33, "East", ifelse(l$inst == 26, "West",
                                ifelse(l$inst %in% c(2, 4), "South", "Centre")))))
write.csv(s, "lung_subgroup_data.csv", row.names = FALSE)
ordered_levels <- list(ecog = c("0", "1", "2+"), ecog_raw = c("0", "1", "2", "3"),
                       karno = as.character(seq(30, 100, 10)), age_group = c("<65", ">=65"))
ctl <- coxph.control(eps = 1e-10, iter.max = 100)
sub <- NULL
for (v in c("age_group", "ecog", "ecog_raw", "karno", "inst", "region")) {
  dv <- s[!is.na(s[[v]]), ]
  dv$arm <- factor(dv$arm, levels = c("Male", "Female"))
  dv$s <- if (v %in% names(ordered_levels)) collapse_ordered(dv[[v]], dv$event, ordered_levels[[v]]) else
    collapse_nominal(dv[[v]], dv$event)
  full <- suppressWarnings(coxph(Surv(time_days, event) ~ arm * s, data = dv, ties = "efron", control = ctl))
  base <- coxph(Surv(time_days, event) ~ arm + s, data = dv, ties = "efron", control = ctl)
  lr <- 2 * (full$loglik[2] - base$loglik[2])
  ddf <- sum(!is.na(coef(full))) - sum(!is.na(coef(base)))
  for (lev in levels(dv$s)) {
    dl <- dv[dv$s == lev, ]
    n <- table(factor(dl$arm, levels = c("Male", "Female")))
    ev <- tapply(dl$event, factor(dl$arm, levels = c("Male", "Female")), sum)
    # An arm without deaths in the level has no hazard ratio (the dashboard's rule; coxph would diverge).
    r <- if (all(ev > 0)) cox_rows(Surv(time_days, event) ~ arm, dl, c("Male", "Female")) else
      data.frame(group = "Female", reference = "Male", hr = NA, lower = NA, upper = NA)
    sub <- rbind(sub, data.frame(variable = v, level = lev, group = "Female",
                                 n = n[["Female"]], events = ev[["Female"]],
                                 n_reference = n[["Male"]], events_reference = ev[["Male"]],
                                 r[, c("hr", "lower", "upper")],
                                 interaction_p = pchisq(lr, ddf, lower.tail = FALSE)))
  }
}
out(sub, "lung", "subgroup")
