# Reference numbers for tests/domain/test_labstats.py (summaries) and tests/domain/test_arm_comparison.py (ANCOVA, Wilcoxon), from R (stats package only).
# Input: alt_fixture.csv (16 patients, ALT, visits BL/W1/W2/W4, integer values so the ranks tie).
# Run: cd tests/domain/reference && Rscript labstats.R   -> labstats_summary.csv, labstats_ancova.csv
d <- read.csv("alt_fixture.csv", stringsAsFactors = FALSE)
base <- d[d$visit_num == 0, c("usubjid", "value")]
names(base)[2] <- "base"
d <- merge(d, base, by = "usubjid", all.x = TRUE)
d$chg <- d$value - d$base

# Descriptive statistics by arm and visit: t CI as t.test, quartiles quantile(type = 7).
rows <- list()
for (a in unique(d$arm)) for (v in sort(unique(d$visit_num))) {
  x <- d$value[d$arm == a & d$visit_num == v]
  ci <- t.test(x, conf.level = 0.95)$conf.int
  q <- quantile(x, c(0.25, 0.5, 0.75), type = 7)
  rows[[length(rows) + 1]] <- data.frame(group = a, visit_num = v, n = length(x), mean = mean(x),
    sd = sd(x), ci_lower = ci[1], ci_upper = ci[2], q1 = q[[1]], median = q[[2]], q3 = q[[3]])
}
write.csv(do.call(rbind, rows), "labstats_summary.csv", row.names = FALSE)

# ANCOVA chg ~ arm + base (Placebo reference), and Wilcoxon rank-sum with normal approximation.
rows <- list()
for (v in 1:3) {
  s <- d[d$visit_num == v, ]
  s$arm <- relevel(factor(s$arm), ref = "Placebo")
  fit <- lm(chg ~ arm + base, data = s)
  ci <- confint(fit, "armUC-MSC", level = 0.95)
  w <- wilcox.test(s$chg[s$arm == "UC-MSC"], s$chg[s$arm == "Placebo"], exact = FALSE, correct = TRUE)
  rows[[length(rows) + 1]] <- data.frame(visit_num = v,
    n_active = sum(s$arm == "UC-MSC"), n_reference = sum(s$arm == "Placebo"),
    diff = coef(fit)[["armUC-MSC"]], lower = ci[1], upper = ci[2],
    p = summary(fit)$coefficients["armUC-MSC", 4], p_wilcoxon = w$p.value)
}
write.csv(do.call(rbind, rows), "labstats_ancova.csv", row.names = FALSE)
