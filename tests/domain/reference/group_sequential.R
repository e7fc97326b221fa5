# Reference fixtures for the group-sequential engine
# (src/dashboard/domain/group_sequential.py), computed independently with rpact.
#
# What it computes
#   * group_sequential_designs.json: Lan-DeMets alpha-spending group-sequential
#     designs (getDesignGroupSequential) for the matrix
#       spending  {obf = "asOF", pocock = "asP", hsd gamma -4, hsd gamma 1 ("asHSD")}
#       looks     {k2 at c(0.4, 1), k3 at c(0.3, 0.65, 1), k5 at c(0.15, 0.3, 0.55, 0.8, 1)}
#       sides     {1 (alpha 0.025), 2 (alpha 0.05)}
#       futility  {none, non-binding beta spending beta = 0.2 of the same family
#                  ("bsOF", "bsP", "bsHSD" with gammaB = gammaA)}
#     with critical values, nominal stage levels, cumulative alpha, futility
#     bounds, cumulative beta, and getDesignCharacteristics() (shift, inflation
#     factor, power), plus getPowerAndAverageSampleNumber() cases.
#     Combinations rpact refuses (errors) go into "refused" with the error text.
#   * group_sequential_analysis.json: survival interim analyses
#     (getDataset(overallEvents, overallLogRanks, overallAllocationRatios) +
#     getAnalysisResults / getConditionalPower) for one-sided OBF k3 at
#     c(0.5, 0.75, 1) (with and without bsOF futility) and two-sided Pocock k3.
#
# rpact version: 3.3.4 (Debian r-cran-rpact), jsonlite 1.8.4.
# Rerun from the repo root:
#     Rscript tests/domain/reference/group_sequential.R
#
# ---------------------------------------------------------------------------
# Formulas read from the rpact 3.3.4 R sources (printed with rpact:::name) and
# from src/f_design_group_sequential.cpp of the rpact GitHub repository (the
# C++ is not shipped in the binary package; the repository revision read is
# 2025 and may differ in numerical detail, but not in algorithm, from 3.3.4).
# Notation: Z = overall log-rank statistic as entered in getDataset,
# d = overall events, r = overallAllocationRatios (active:control, entered in
# the dataset), t_k = design$informationRates, c_k = design$criticalValues.
#
# (a) Effect size / sign convention  (.getStageResultsSurvival)
#     effectSizes <- exp(Z * (1 + r) / sqrt(r * d))            # observed HR
#     overallTestStatistics <- Z - sqrt(d) * sqrt(r)/(1 + r) * log(thetaH0)
#     directionUpper = TRUE : overallPValues <- 1 - pnorm(Zt)
#     directionUpper = FALSE: overallPValues <- pnorm(Zt)
#     i.e. Z < 0 <=> HR < 1. overallTestStatistics keeps the sign as entered;
#     the "directed" statistic used against c_k is qnorm(1 - overallPValues),
#     = Z (upper) or -Z (lower). Stage-wise logranks are derived from the
#     overall ones by the dataset: Z_j,stage = (sqrt(D_j) Z_j - sqrt(D_{j-1})
#     Z_{j-1}) / sqrt(D_j - D_{j-1}) (checked numerically below, "stagewise").
#
# (b) Conditional power, group-sequential design
#     (.getConditionalPowerSurvivalGroupSequential), stage s observed:
#       w_j  = sqrt(t_j - t_{j-1}) (design weights, t_0 = 0)
#       n_j  = r_pl/(1 + r_pl)^2 * nPlanned_j      (r_pl = allocationRatioPlanned)
#       th   = log(thetaH1/thetaH0) if directionUpper else -log(thetaH1/thetaH0)
#       Zc   = sum_{j<=s} w_j * qnorm(1 - p_j)     (p_j = STAGE-WISE p-values!)
#       for k = s+1..K:  W_k = sum_{j=s+1..k} w_j^2
#         upper_k = c_k * sqrt(t_s + W_k)/sqrt(W_k) - Zc/sqrt(W_k)
#                   - th * cumsum(sqrt(n_j) * w_j)_k / sqrt(W_k)
#         futility_k (k < K, one-sided only) = u_k * sqrt(t_s + W_k)/sqrt(W_k)
#                   - Zc/sqrt(W_k) - th * cumsum(sqrt(n_j) w_j)_k / sqrt(W_k)
#         (u_k = design$futilityBounds, -6 if none; entered even though the
#          bounds are NON-binding)
#       probabilities of the standard process at scaled information
#         (t_k - t_s)/(1 - t_s) (design information rates; nPlanned is NOT
#         used to recompute information rates, only in the drift);
#       conditionalPower[k] = cumsum(P(cross upper_k first)).
#     two-sided: lower_k = -c_k*sqrt(t_s+W_k)/sqrt(W_k)
#                 - qnorm(1 - overallP_s)*sqrt(t_s)/sqrt(W_k) - drift (same th),
#       no futility bounds; CP counts only upper crossings unless twoSidedPower.
#     thetaH1 = NA  -> thetaH1 <- stageResults$effectSizes[stage] (observed HR).
#     nPlanned is returned rescaled back to events.
#     Note Zc uses design weights with stage-wise statistics; this equals
#     sqrt(t_s) * Z_s only when observed events are proportional to t.
#
# (c) Repeated confidence interval (.getRepeatedConfidenceIntervalsSurvivalAll,
#     group-sequential): root search in thetaH0 of
#       qnorm(1 - overallPValue(thetaH0)) = c_k, upper and lower direction,
#     which in closed form is
#       lower_k = exp((Z - c_k) * (1 + r)/sqrt(r * d)),
#       upper_k = exp((Z + c_k) * (1 + r)/sqrt(r * d)),
#     with c_k the design's (one-sided for sided = 1, i.e. a 1 - 2*alpha-type
#     RCI; for sided = 2 the symmetric two-sided bound). r = observed ratio in
#     the dataset. Futility correction only when bindingFutility = TRUE.
#     Accuracy: root finder tolerance (C_ANALYSIS_TOLERANCE_DEFAULT = 1e-6).
#
# (d) Beta-spending futility (C++ getDesignGroupSequentialBetaSpendingOneSidedCpp,
#     non-binding): critical values c_k from the alpha spending alone (no
#     futility). beta_k = spending(beta, t_k) with the "bs" function. For a
#     drift "shift" (Z_k ~ N(shift*sqrt(t_k), 1)):
#       u_1 = qnorm(beta_1) + sqrt(t_1) * shift
#       u_k: bisection so that sum_{j<=k} P_shift(continue to j, Z_j < u_j) = beta_k
#            (continuation region (u_j, c_j), i.e. futility treated as stopping)
#     shift solved (bizero on [-4, 10]) such that u_K = c_K. betaSpent =
#     cumsum of those probabilities under the alternative with that drift
#     (H1), power = cumsum P_shift(cross c_k). Binding: c_k recomputed with the
#     futility bounds inside the same shift loop.
#     getDesignCharacteristics()$shift is the SQUARE of that drift (its decision
#     matrix uses sqrt(shift * t_k)), nFixed = (qnorm(1-alpha/sided) +
#     qnorm(1-beta))^2, inflationFactor = shift/nFixed.
#     Two-sided beta spending: futility bounds are an inner symmetric band
#     (-u_k, u_k); stages whose one-sided futility bound would be < 0 get no
#     bound (set to 0 -> reported NA), the beta spending is then shifted to
#     later stages ("experimental" in rpact).
#
# (e) Two-sided alpha spending: alpha is the TOTAL two-sided level; bounds are
#     symmetric +-c_k; spending function value is the total two-sided alpha
#     spent, e.g. asOF: 2*sided*(1 - pnorm(qnorm(1 - alpha/(2*sided))/sqrt(t)))
#     = 4*(1 - Phi(z_{1-alpha/4}/sqrt t)) for sided = 2 (two one-sided OBF
#     functions at alpha/2 each); asP: alpha*log(1 + (e-1) t);
#     asHSD: alpha*(1 - exp(-gamma t))/(1 - exp(-gamma)). Stage 1:
#     c_1 = qnorm(1 - alpha_1/sided); later stages bisection with
#     P(|Z| crossing) summed over both tails = alpha(t_k).
#     design$stageLevels = 1 - pnorm(c_k) ALWAYS (one-sided nominal level,
#     also for sided = 2; the two-sided nominal p is 2*stageLevels).
# ---------------------------------------------------------------------------

suppressPackageStartupMessages({
  library(rpact)
  library(jsonlite)
})
options(digits = 15)
setLogLevel("DISABLED")  # silence [PROGRESS] messages

out_dir <- file.path("tests", "domain", "reference")
if (!dir.exists(out_dir)) stop("run from the repository root")

na_null <- function(x) {
  # vector -> list with NULL for NA / non-finite sentinels (keeps length)
  lapply(as.numeric(x), function(v) if (is.na(v)) NULL else v)
}
num_or_null <- function(x) if (length(x) == 0 || is.null(x) || is.na(x)) NULL else as.numeric(x)

capture <- function(expr) {
  warns <- character(0)
  value <- withCallingHandlers(
    tryCatch(expr, error = function(e) structure(list(message = conditionMessage(e)), class = "rp_error")),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    }
  )
  list(value = value, warnings = warns)
}
is_err <- function(x) inherits(x, "rp_error")

# ------------------------------------------------------------------ designs
families <- list(
  obf = list(spending = "obf", a = "asOF", b = "bsOF", gamma = NA_real_, tag = "obf"),
  pocock = list(spending = "pocock", a = "asP", b = "bsP", gamma = NA_real_, tag = "pocock"),
  hsd_m4 = list(spending = "hsd", a = "asHSD", b = "bsHSD", gamma = -4, tag = "hsd_gm4"),
  hsd_1 = list(spending = "hsd", a = "asHSD", b = "bsHSD", gamma = 1, tag = "hsd_g1")
)
looks <- list(
  k2 = c(0.4, 1),
  k3 = c(0.3, 0.65, 1),
  k5 = c(0.15, 0.3, 0.55, 0.8, 1)
)

make_design <- function(fam, info, sided, futility) {
  alpha <- if (sided == 1) 0.025 else 0.05
  args <- list(kMax = length(info), informationRates = info, alpha = alpha,
               sided = sided, typeOfDesign = fam$a)
  if (!is.na(fam$gamma)) args$gammaA <- fam$gamma
  if (futility) {
    args$beta <- 0.2
    args$typeBetaSpending <- fam$b
    if (!is.na(fam$gamma)) args$gammaB <- fam$gamma
    args$bindingFutility <- FALSE
  }
  list(args = args, alpha = alpha)
}

design_record <- function(id, fam, info, sided, futility, design, warns) {
  K <- design$kMax
  fb <- design$futilityBounds
  lk <- lapply(seq_len(K), function(k) {
    fz <- NULL
    if (k < K && futility && !is.na(fb[k]) && fb[k] > -6 + 1e-9) fz <- fb[k]
    cb <- NULL
    if (futility && length(design$betaSpent) >= k && !is.na(design$betaSpent[k])) cb <- design$betaSpent[k]
    list(information = info[k],
         efficacy_z = design$criticalValues[k],
         efficacy_p_nominal = design$stageLevels[k],
         cumulative_alpha = design$alphaSpent[k],
         futility_z = fz,
         futility_z_raw = if (k < K) num_or_null(fb[k]) else NULL,
         cumulative_beta = cb,
         power_cumulative_design = if (futility) num_or_null(design$power[k]) else NULL)
  })
  ch <- capture(getDesignCharacteristics(design))
  rec <- list(
    id = id,
    information = info,
    alpha = design$alpha,
    sides = sided,
    spending = fam$spending,
    type_of_design = fam$a,
    gamma = num_or_null(fam$gamma),
    beta = if (futility) 0.2 else NULL,
    futility_spending = if (futility) fam$b else NULL,
    futility_gamma = if (futility) num_or_null(fam$gamma) else NULL,
    binding_futility = FALSE,
    looks = lk,
    rpact_tolerance = design$tolerance,
    rpact_warnings = I(warns)
  )
  if (is_err(ch$value)) {
    rec$design_characteristics_error <- ch$value$message
  } else {
    dc <- ch$value
    rec$shift <- dc$shift
    rec$inflation_factor <- dc$inflationFactor
    rec$n_fixed <- dc$nFixed
    rec$power <- as.numeric(dc$power)
    rec$rejection_probabilities_h1 <- as.numeric(dc$rejectionProbabilities)
    rec$futility_probabilities_h1 <- as.numeric(dc$futilityProbabilities)
    rec$average_sample_number_h0 <- dc$averageSampleNumber0
    rec$average_sample_number_h01 <- dc$averageSampleNumber01
    rec$average_sample_number_h1 <- dc$averageSampleNumber1
    rec$design_characteristics_beta <- design$beta
    if (length(ch$warnings)) rec$design_characteristics_warnings <- I(ch$warnings)
  }
  rec
}

cases <- list()
refused <- list()
designs_by_id <- list()
for (fn in names(families)) {
  fam <- families[[fn]]
  for (ln in names(looks)) {
    info <- looks[[ln]]
    for (sided in c(1, 2)) {
      for (futility in c(FALSE, TRUE)) {
        id <- sprintf("%s_%s_sided%d_%s", fam$tag, ln, sided,
                      if (futility) "futility" else "nofutility")
        md <- make_design(fam, info, sided, futility)
        res <- capture(do.call(getDesignGroupSequential, md$args))
        if (is_err(res$value)) {
          refused[[length(refused) + 1]] <- list(
            id = id, call_arguments = md$args, error = res$value$message,
            warnings = I(res$warnings))
          next
        }
        designs_by_id[[id]] <- res$value
        cases[[length(cases) + 1]] <- design_record(id, fam, info, sided, futility,
                                                    res$value, res$warnings)
      }
    }
  }
}

# ------------------------------------------------------------- power cases
power_cases <- list()
for (id in c("obf_k3_sided1_nofutility", "pocock_k3_sided1_nofutility", "obf_k3_sided1_futility")) {
  d <- designs_by_id[[id]]
  if (is.null(d)) next
  theta <- c(0, 0.2, 0.5)
  p <- getPowerAndAverageSampleNumber(d, theta = theta, nMax = 30)
  power_cases[[length(power_cases) + 1]] <- list(
    design_id = id, theta = theta, nMax = 30,
    drift_formula = "Z_k ~ N(theta * sqrt(nMax * informationRates[k]), 1); decision matrix = bounds - theta*sqrt(nMax*t_k); futility bounds (also non-binding) act as stopping",
    overall_reject = as.numeric(p$overallReject),
    calculated_power = as.numeric(p$calculatedPower),
    early_stop = unname(lapply(seq_along(theta), function(i) as.numeric(p$earlyStop[, i]))),
    overall_early_stop = as.numeric(p$overallEarlyStop),
    reject_per_stage = unname(lapply(seq_along(theta), function(i) as.numeric(p$rejectPerStage[, i]))),
    futility_stop = unname(lapply(seq_along(theta), function(i) as.numeric(p$futilityPerStage[, i]))),
    overall_futility = as.numeric(p$overallFutility),
    average_sample_number = as.numeric(p$averageSampleNumber),
    layout = "per-theta lists: early_stop[i][k], reject_per_stage[i][k], futility_stop[i][k] for theta[i], stage k; early_stop at the last stage is NA(null)"
  )
}

# ---- numeric checks of the stageLevels meaning for a two-sided design
d2 <- designs_by_id[["obf_k3_sided2_nofutility"]]
stage_level_check <- list(
  design_id = "obf_k3_sided2_nofutility",
  critical_values = d2$criticalValues,
  stage_levels = d2$stageLevels,
  one_minus_pnorm_c = 1 - pnorm(d2$criticalValues),
  two_sided_nominal_p = 2 * (1 - pnorm(d2$criticalValues)),
  alpha_spent = d2$alphaSpent,
  asOF_two_sided_spending_formula = 4 * (1 - pnorm(qnorm(1 - 0.05 / 4) / sqrt(d2$informationRates)))
)

notes <- c(
  "efficacy_p_nominal = design$stageLevels = 1 - pnorm(criticalValues) for BOTH one- and two-sided designs: it is the ONE-SIDED nominal level. For sides = 2 the two-sided nominal p-value threshold is 2 * efficacy_p_nominal (see stage_level_check).",
  "For sides = 2, alpha (0.05) is the total two-sided alpha, bounds are symmetric +-efficacy_z, and cumulative_alpha is the total (both tails) alpha spent, e.g. asOF: 4*(1 - Phi(qnorm(1 - alpha/4)/sqrt(t))).",
  "futility_z is null at the last look and when rpact reports no bound (-6 sentinel or NA; two-sided beta spending sets non-positive bounds to NA). futility_z_raw keeps rpact's value (-6 sentinel / NA) for k < K.",
  "cumulative_beta = design$betaSpent (beta spent under the alternative with drift = the beta-spending shift, futility acting as stopping); only for futility cases.",
  "shift = getDesignCharacteristics(design)$shift = squared drift (delta^2 * I_max): Z_k ~ N(sqrt(shift * t_k), 1) under H1. inflation_factor = shift / n_fixed, n_fixed = (qnorm(1 - alpha/sides) + qnorm(1 - beta))^2. power = cumulative rejection probability under H1 (futility bounds count as stopping; two-sided: upper tail only unless twoSidedPower). For designs without futility, getDesignCharacteristics uses the default beta = 0.2.",
  "power_cumulative_design (futility cases) = design$power from the beta-spending C++ routine (cumulative power at the beta-spending shift).",
  "Two-sided beta spending is 'experimental' in rpact 3.3.4: computed with a warning (see rpact_warnings), not refused.",
  "cumulative_alpha (design$alphaSpent) is recomputed from the final bounds by the recursion and its LAST entry is floored to 8 decimals by rpact (.calculateAlphaSpent: floor(x * 1e8) / 1e8), hence 0.02499999 / 0.04999999 at some final looks; compare with tolerance ~1e-8 or use the spending function value alpha.",
  "rpact_tolerance = design$tolerance (1e-8): bisection tolerance for the bounds; compare efficacy_z / futility_z at ~1e-6 absolute.",
  "Non-binding futility does not change efficacy_z (critical values come from alpha spending alone)."
)

designs_json <- list(
  generator = "tests/domain/reference/group_sequential.R",
  rpact_version = as.character(packageVersion("rpact")),
  r_version = R.version.string,
  notes = notes,
  stage_level_check = stage_level_check,
  cases = cases,
  refused = refused,
  power_cases = power_cases
)
write_json(designs_json, file.path(out_dir, "group_sequential_designs.json"),
           auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null", na = "null")

# ----------------------------------------------------------------- analysis
an_designs <- list(
  obf_k3_sided1_info50_75 = list(
    description = "one-sided O'Brien-Fleming-type (asOF), alpha 0.025, information c(0.5, 0.75, 1), no futility",
    design = getDesignGroupSequential(kMax = 3, informationRates = c(0.5, 0.75, 1),
                                      alpha = 0.025, sided = 1, typeOfDesign = "asOF")),
  obf_k3_sided1_info50_75_bsOF = list(
    description = "one-sided asOF alpha 0.025 with non-binding bsOF futility, beta 0.2, information c(0.5, 0.75, 1)",
    design = getDesignGroupSequential(kMax = 3, informationRates = c(0.5, 0.75, 1),
                                      alpha = 0.025, beta = 0.2, sided = 1, typeOfDesign = "asOF",
                                      typeBetaSpending = "bsOF", bindingFutility = FALSE)),
  pocock_k3_sided2_info50_75 = list(
    description = "two-sided Pocock-type (asP), alpha 0.05 (two-sided total), information c(0.5, 0.75, 1)",
    design = getDesignGroupSequential(kMax = 3, informationRates = c(0.5, 0.75, 1),
                                      alpha = 0.05, sided = 2, typeOfDesign = "asP"))
)

max_events <- 24
ratio <- 2.5
planned_cum_events <- c(0.5, 0.75, 1) * max_events  # 12, 18, 24

datasets <- list(
  s1_z_m1.8 = list(events = 12, logranks = -1.8),
  s1_z_p0.9 = list(events = 12, logranks = 0.9),
  s1_z_m2.9 = list(events = 12, logranks = -2.9),
  s2_z_m1.5_m2.2 = list(events = c(12, 19), logranks = c(-1.5, -2.2))
)

n_planned_for <- function(events) {
  s <- length(events)
  remaining <- planned_cum_events[(s + 1):3]
  diff(c(events[s], remaining))   # events to be added per remaining stage
}

stage_results_record <- function(sr, stage) {
  list(
    overall_test_statistics = as.numeric(sr$overallTestStatistics[1:stage]),
    overall_p_values = as.numeric(sr$overallPValues[1:stage]),
    effect_sizes_hr = as.numeric(sr$effectSizes[1:stage]),
    stagewise_test_statistics = as.numeric(sr$testStatistics[1:stage]),
    stagewise_p_values = as.numeric(sr$pValues[1:stage]),
    stagewise_events = as.numeric(sr$events[1:stage]),
    overall_allocation_ratios = as.numeric(sr$overallAllocationRatios[1:stage]),
    direction = sr$direction
  )
}

analysis_cases <- list()
add_analysis <- function(design_id, ds_id, directionUpper, thetaH1_label, thetaH1) {
  dz <- an_designs[[design_id]]$design
  ds <- datasets[[ds_id]]
  s <- length(ds$events)
  nPl <- n_planned_for(ds$events)
  data <- getDataset(overallEvents = ds$events, overallLogRanks = ds$logranks,
                     overallAllocationRatios = rep(ratio, s))
  id <- sprintf("%s__%s__dir%s__thetaH1_%s", design_id, ds_id,
                if (directionUpper) "Upper" else "Lower", thetaH1_label)
  rec <- list(id = id, design_id = design_id, dataset_id = ds_id,
              inputs = list(overall_events = ds$events, overall_logranks = ds$logranks,
                            overall_allocation_ratios = rep(ratio, s),
                            planned_max_events = max_events,
                            planned_cumulative_events = planned_cum_events,
                            n_planned = nPl, allocation_ratio_planned = ratio,
                            direction_upper = directionUpper,
                            thetaH1 = if (is.na(thetaH1)) NULL else thetaH1,
                            thetaH1_meaning = thetaH1_label))
  args <- list(design = dz, dataInput = data, directionUpper = directionUpper,
               nPlanned = nPl, allocationRatioPlanned = ratio)
  if (!is.na(thetaH1)) args$thetaH1 <- thetaH1
  res <- capture(do.call(getAnalysisResults, args))
  rec$rpact_warnings <- I(res$warnings)
  if (is_err(res$value)) {
    rec$getAnalysisResults_error <- res$value$message
  } else {
    ar <- res$value
    rec$thetaH1_used <- num_or_null(ar$thetaH1)
    rec$conditional_power <- na_null(ar$conditionalPower)
    rec$conditional_rejection_probabilities <- na_null(ar$conditionalRejectionProbabilities)
    rec$repeated_ci_lower_hr <- na_null(ar$repeatedConfidenceIntervalLowerBounds)
    rec$repeated_ci_upper_hr <- na_null(ar$repeatedConfidenceIntervalUpperBounds)
    rec$repeated_p_values <- na_null(ar$repeatedPValues)
    rec$test_actions <- as.list(ar$testActions)
    rec$final_stage <- num_or_null(ar$finalStage)
    rec$final_p_values <- na_null(ar$finalPValues)
    rec$final_ci_lower_hr <- na_null(ar$finalConfidenceIntervalLowerBounds)
    rec$final_ci_upper_hr <- na_null(ar$finalConfidenceIntervalUpperBounds)
    rec$median_unbiased_hr <- na_null(ar$medianUnbiasedEstimates)
    rec$stage_results <- stage_results_record(ar$.stageResults, s)
    rec$n_planned_returned <- na_null(ar$nPlanned)
  }
  # Independent route via getStageResults + getConditionalPower (always).
  sr <- capture(getStageResults(dz, data, directionUpper = directionUpper))
  if (!is_err(sr$value)) {
    cpargs <- list(stageResults = sr$value, nPlanned = nPl, allocationRatioPlanned = ratio)
    if (!is.na(thetaH1)) cpargs$thetaH1 <- thetaH1
    cp <- capture(do.call(getConditionalPower, cpargs))
    if (is_err(cp$value)) {
      rec$getConditionalPower_error <- cp$value$message
    } else {
      rec$getConditionalPower <- list(conditional_power = na_null(cp$value$conditionalPower),
                                      thetaH1 = num_or_null(cp$value$thetaH1),
                                      warnings = I(cp$warnings))
    }
    if (is.null(rec$stage_results)) rec$stage_results <- stage_results_record(sr$value, s)
  } else {
    rec$getStageResults_error <- sr$value$message
  }
  # Closed-form cross-checks of items (a) and (c)
  Z <- ds$logranks[s]; d <- ds$events[s]
  rec$closed_form <- list(
    hr_exp_z_1pr_sqrt_rd = exp(Z * (1 + ratio) / sqrt(ratio * d)),
    rci_lower_hr = exp((Z - dz$criticalValues[s]) * (1 + ratio) / sqrt(ratio * d)),
    rci_upper_hr = exp((Z + dz$criticalValues[s]) * (1 + ratio) / sqrt(ratio * d))
  )
  analysis_cases[[length(analysis_cases) + 1]] <<- rec
}

for (design_id in names(an_designs)) {
  for (ds_id in names(datasets)) {
    for (th in list(c("design_hr_0.55", 0.55), c("observed_hr", NA), c("h0_1", 1))) {
      add_analysis(design_id, ds_id, FALSE, th[1], as.numeric(th[2]))
    }
  }
}
# Sign convention with directionUpper = TRUE (harm = HR > 1 direction).
add_analysis("obf_k3_sided1_info50_75", "s1_z_p0.9", TRUE, "observed_hr", NA)
add_analysis("obf_k3_sided1_info50_75", "s1_z_m1.8", TRUE, "observed_hr", NA)
add_analysis("obf_k3_sided1_info50_75", "s1_z_m1.8", TRUE, "inverse_design_hr_1.818", 1 / 0.55)


# ------------------------------------------ re-implementations (formula checks)
# These reproduce rpact's numbers from the formulas in the header, using only
# rpact's multivariate-normal recursion .getGroupSequentialProbabilities
# (decision matrix rows: lower, upper; returns rows P(<lower), P(<upper), P(reach)).
gsp <- rpact:::.getGroupSequentialProbabilities
formula_checks <- local({
  r <- ratio
  d <- an_designs$obf_k3_sided1_info50_75$design
  dF <- an_designs$obf_k3_sided1_info50_75_bsOF$design
  t <- d$informationRates
  w <- sqrt(diff(c(0, t)))
  th <- -log(0.55)                              # directionUpper = FALSE
  # stage 2 observed (events 12, 19; Z -1.5, -2.2), nPlanned 5
  zs <- c(-1.5, (sqrt(19) * -2.2 - sqrt(12) * -1.5) / sqrt(7))  # stage-wise Z
  zc <- sum(w[1:2] * -zs)                       # directed, design weights
  W <- w[3]^2
  n <- r / (1 + r)^2 * 5
  up <- d$criticalValues[3] * sqrt(t[2] + W) / sqrt(W) - zc / sqrt(W) - th * sqrt(n) * w[3] / sqrt(W)
  cp_stage2 <- 1 - pnorm(up)
  # stage 1 observed (12 events, Z -1.8), nPlanned c(6, 6), bsOF futility design
  n <- r / (1 + r)^2 * c(6, 6)
  zc <- w[1] * 1.8
  W <- cumsum(w[2:3]^2)
  up <- dF$criticalValues[2:3] * sqrt(t[1] + W) / sqrt(W) - zc / sqrt(W) - th * cumsum(sqrt(n) * w[2:3]) / sqrt(W)
  fu <- dF$futilityBounds[2] * sqrt(t[1] + W[1]) / sqrt(W[1]) - zc / sqrt(W[1]) - th * sqrt(n[1]) * w[2] / sqrt(W[1])
  p <- gsp(matrix(c(fu, -6, up), nrow = 2, byrow = TRUE), (t[2:3] - t[1]) / (1 - t[1]))
  cp_stage1_futility <- cumsum(p[3, ] - p[2, ])
  # beta spending, obf_k3_sided1_futility
  dd <- designs_by_id[["obf_k3_sided1_futility"]]
  ti <- dd$informationRates
  bs <- 2 * (1 - pnorm(qnorm(1 - 0.2 / 2) / sqrt(ti)))   # bsOF spending
  drift <- (dd$futilityBounds[1] - qnorm(bs[1])) / sqrt(ti[1])
  M <- matrix(c(dd$futilityBounds, dd$criticalValues[3], dd$criticalValues), nrow = 2, byrow = TRUE) -
    matrix(sqrt(ti) * drift, 2, 3, byrow = TRUE)
  pp <- gsp(M, ti)
  list(
    cp_stage2_obf_design_hr = list(
      reimplemented = cp_stage2,
      rpact_case = "obf_k3_sided1_info50_75__s2_z_m1.5_m2.2__dirLower__thetaH1_design_hr_0.55",
      stagewise_z = zs),
    cp_stage1_bsOF_design_hr = list(
      reimplemented = cp_stage1_futility,
      rpact_case = "obf_k3_sided1_info50_75_bsOF__s1_z_m1.8__dirLower__thetaH1_design_hr_0.55"),
    beta_spending_obf_k3_sided1 = list(
      bsOF_spending_values = bs,
      drift_from_first_bound = drift,
      drift_squared = drift^2,
      design_characteristics_shift = getDesignCharacteristics(dd)$shift,
      beta_spent_rpact = dd$betaSpent,
      beta_spent_reimplemented = cumsum(pp[1, ]),
      power_rpact = dd$power,
      power_reimplemented = cumsum(pp[3, ] - pp[2, ]))
  )
})

an_design_json <- lapply(names(an_designs), function(nm) {
  d <- an_designs[[nm]]$design
  list(id = nm, description = an_designs[[nm]]$description,
       information = d$informationRates, alpha = d$alpha, sides = d$sided,
       critical_values = d$criticalValues, stage_levels = d$stageLevels,
       alpha_spent = d$alphaSpent,
       futility_bounds = na_null(ifelse(d$futilityBounds <= -6, NA, d$futilityBounds)),
       beta_spent = na_null(d$betaSpent),
       binding_futility = d$bindingFutility, two_sided_power = d$twoSidedPower)
})

analysis_json <- list(
  generator = "tests/domain/reference/group_sequential.R",
  rpact_version = as.character(packageVersion("rpact")),
  notes = c(
    "Survival datasets built with getDataset(overallEvents, overallLogRanks, overallAllocationRatios = 2.5); allocation ratio = active:control.",
    "Planned maximum 24 events at information c(0.5, 0.75, 1) -> planned cumulative events 12, 18, 24; n_planned = events still to be added per remaining stage (from the observed count).",
    "effect_sizes_hr = exp(Z * (1 + r) / sqrt(r * d)) (Z as entered; Z < 0 <=> HR < 1). directionUpper = FALSE tests HR < 1: p = pnorm(Z).",
    "thetaH1 'observed_hr': thetaH1 omitted (NA) -> rpact uses effectSizes[stage] (observed HR); thetaH1_used records it.",
    "conditional_power[k] is the cumulative probability of rejecting by stage k (entries for already observed stages are null).",
    "repeated CIs (HR scale) use the design critical values c_k: exp((Z -+ c_k)(1 + r)/sqrt(r d)); root-finder tolerance 1e-6 (closed_form gives the exact formula values).",
    "repeated_p_values: smallest alpha level of the SAME design family (recomputed with that alpha, beta spending switched off for non-binding) whose c_k equals the observed directed Z; bisection tolerance 1e-6. Two-sided designs compare |Z| with the two-sided design.",
    "getConditionalPower block = the same conditional power via getStageResults + getConditionalPower (independent call path).",
    "repeated_p_values are searched on (tolerance, 0.5]: a value of ~0.499999 means 'no level <= 0.5 rejects' (Z in the wrong direction or too small).",
    "With directionUpper = TRUE the same Z/events give the same effect_sizes_hr and repeated CIs (the RCI does not depend on direction), but p = 1 - pnorm(Z) and thetaH1 enters the drift as +log(thetaH1).",
    "Two-sided designs: getAnalysisResults accepts directionUpper = FALSE; test_actions compare |Z| with c_k; conditional power counts only crossings of the upper (benefit-direction) bound; repeated p-values are two-sided levels.",
    "formula_checks: closed-form re-implementations of conditional power and beta spending that reproduce the rpact numbers (see header of the R script)."
  ),
  designs = an_design_json,
  formula_checks = formula_checks,
  cases = analysis_cases
)
write_json(analysis_json, file.path(out_dir, "group_sequential_analysis.json"),
           auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null", na = "null")

cat("designs:", length(cases), "refused:", length(refused),
    "power cases:", length(power_cases), "analysis cases:", length(analysis_cases), "\n")
