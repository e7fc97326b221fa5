# Reference numbers for tests/domain/test_composite.py: MELD at a landmark day with death ranked worst.
# Written from the rules (src/dashboard/domain/composite.py's module docstring) and the papers, not from the
# Python: the worst-rank score is one number per patient (Lachin 1999, Control Clin Trials 20:408), the
# win ratio compares every pair on the hierarchy one by one (Pocock 2012, Eur Heart J 33:176), its variance
# is the two-sample U-statistic covariance of Bebu & Lachin (2016, Biostatistics 17:178) summed over
# distinct pairs sharing a patient. No win-ratio package is on Debian.
# Data: composite_small (hand-made: tied deaths across arms, a transplant then death, death on the landmark
# day, a death and a transplant after it, each exclusion rule) and composite_trial (50:20, simulated here).
# Run: cd tests/domain/reference && Rscript composite.R   (R 4.2, stats only)
L <- 84
act <- "UC-MSC"; ref <- "Placebo"

small <- read.table(header = TRUE, na.strings = "NA", text = "
usubjid arm     meld_baseline meld_landmark death_day transplant_day followup_day
A01     UC-MSC  30            NA            10        NA             10
A02     UC-MSC  28            NA            40        NA             40
A03     UC-MSC  25            NA            NA        50             50
A04     UC-MSC  26            18            NA        NA             200
A05     UC-MSC  22            20            NA        NA             200
A06     UC-MSC  24            22            NA        NA             84
A07     UC-MSC  31            NA            NA        NA             60
A08     UC-MSC  27            NA            NA        NA             300
A09     UC-MSC  29            25            120       NA             120
A10     UC-MSC  NA            20            NA        NA             200
A11     UC-MSC  33            NA            84        NA             84
A12     UC-MSC  21            19            NA        150            150
P01     Placebo 31            NA            10        NA             10
P02     Placebo 27            NA            20        NA             20
P03     Placebo 30            NA            NA        50             50
P04     Placebo 25            NA            30        20             30
P05     Placebo 24            26            NA        NA             200
P06     Placebo 23            21            NA        NA             200
P07     Placebo 26            NA            NA        NA             40
")
write.csv(small, "composite_small_data.csv", row.names = FALSE, na = "")

set.seed(84)
n <- 70
trial <- data.frame(usubjid = sprintf("S%03d", 1:n), arm = rep(c(act, ref), c(50, 20)))
trial$meld_baseline <- round(rnorm(n, 27, 5))
trial$death_day <- ifelse(runif(n) < ifelse(trial$arm == act, 0.3, 0.45), sample(seq(3, 150, by = 7), n, TRUE), NA)
trial$transplant_day <- ifelse(is.na(trial$death_day) & runif(n) < 0.15, sample(5:120, n, TRUE), NA)
trial$followup_day <- pmin(ifelse(runif(n) < 0.07, sample(20:83, n, TRUE), 336),
                           trial$death_day, trial$transplant_day, na.rm = TRUE)
trial$meld_landmark <- ifelse(trial$followup_day >= L & runif(n) > 0.06,
                              pmax(6, round(trial$meld_baseline - rnorm(n, ifelse(trial$arm == act, 9, 6), 6))), NA)
trial$meld_baseline[7] <- NA
write.csv(trial[, c("usubjid", "arm", "meld_baseline", "meld_landmark", "death_day", "transplant_day",
                    "followup_day")], "composite_trial_data.csv", row.names = FALSE, na = "")

analyse <- function(name) {
  d <- read.csv(paste0(name, "_data.csv"), stringsAsFactors = FALSE)
  dead <- !is.na(d$death_day) & d$death_day <= L
  tx <- !dead & !is.na(d$transplant_day) & d$transplant_day <= L
  alive <- !dead & !tx
  keep <- !is.na(d$meld_baseline) & !(alive & (d$followup_day < L | is.na(d$meld_landmark)))
  d <- d[keep, ]; dead <- dead[keep]; tx <- tx[keep]; alive <- alive[keep]
  d$chg <- d$meld_landmark - d$meld_baseline
  # One score per patient, larger better: deaths far below transplants far below survivors.
  y <- ifelse(dead, -1e6 + d$death_day, ifelse(tx, -5e5 + d$transplant_day, -d$chg))
  write.csv(data.frame(usubjid = d$usubjid, rank = rank(y)), paste0(name, "_ranks.csv"), row.names = FALSE)

  a <- d$arm == act
  w <- wilcox.test(y[a], y[!a], exact = FALSE, correct = TRUE)
  d$arm <- factor(d$arm, levels = c(ref, act))
  fit <- lm(rank(y) ~ arm + rank(meld_baseline), data = d)
  term <- paste0("arm", act)
  ci <- confint(fit, term, level = 0.95)
  co <- summary(fit)$coefficients

  # Win ratio: every active patient i against every reference patient j on the hierarchy.
  ia <- which(a); ir <- which(!a)
  m <- length(ia); nr <- length(ir)
  W <- Lo <- matrix(0, m, nr)
  lev <- matrix("", m, nr)
  for (p in seq_len(m)) for (q in seq_len(nr)) {
    i <- ia[p]; j <- ir[q]
    if (dead[i] || dead[j]) {
      lev[p, q] <- "death"
      s <- if (dead[i] && dead[j]) sign(d$death_day[i] - d$death_day[j]) else if (dead[i]) -1 else 1
    } else if (tx[i] || tx[j]) {
      lev[p, q] <- "transplant"
      s <- if (tx[i] && tx[j]) sign(d$transplant_day[i] - d$transplant_day[j]) else if (tx[i]) -1 else 1
    } else {
      lev[p, q] <- "MELD change"
      s <- sign(d$chg[j] - d$chg[i])
    }
    W[p, q] <- s > 0; Lo[p, q] <- s < 0
  }
  levels_tab <- do.call(rbind, lapply(c("death", "transplant", "MELD change"), function(l)
    data.frame(level = l, wins = sum(W[lev == l]), losses = sum(Lo[lev == l]),
               ties = sum(lev == l & !W & !Lo))))
  tw <- mean(W); tl <- mean(Lo)
  # E[phi(i, j) psi(i, k)] over distinct j != k sharing active patient i, and over distinct i != h sharing j.
  shared_active <- function(A, B) sum(sapply(seq_len(m), function(p) sum(outer(A[p, ], B[p, ])) - sum(A[p, ] * B[p, ]))) / (m * nr * (nr - 1))
  shared_ref <- function(A, B) sum(sapply(seq_len(nr), function(q) sum(outer(A[, q], B[, q])) - sum(A[, q] * B[, q]))) / (nr * m * (m - 1))
  s_ww <- (shared_active(W, W) - tw^2) / m + (shared_ref(W, W) - tw^2) / nr
  s_ll <- (shared_active(Lo, Lo) - tl^2) / m + (shared_ref(Lo, Lo) - tl^2) / nr
  s_wl <- (shared_active(W, Lo) - tw * tl) / m + (shared_ref(W, Lo) - tw * tl) / nr
  wr <- tw / tl
  se <- sqrt(s_ww / tw^2 + s_ll / tl^2 - 2 * s_wl / (tw * tl))
  z <- qnorm(0.975)
  write.csv(levels_tab, paste0(name, "_win_levels.csv"), row.names = FALSE)
  write.csv(data.frame(n_active = m, n_reference = nr, u = unname(w$statistic), p_wilcoxon = w$p.value,
                       ancova_difference = co[term, 1], ancova_se = co[term, 2], ancova_lower = ci[1],
                       ancova_upper = ci[2], ancova_p = co[term, 4], wins = sum(W), losses = sum(Lo),
                       ties = sum(!W & !Lo), win_ratio = wr, se_log = se, lower = wr * exp(-z * se),
                       upper = wr * exp(z * se), p = 2 * pnorm(-abs(log(wr) / se))),
            paste0(name, "_results.csv"), row.names = FALSE)
}
for (name in c("composite_small", "composite_trial")) analyse(name)
