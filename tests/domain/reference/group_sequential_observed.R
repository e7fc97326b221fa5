# The dashboard's monitoring: boundaries recomputed at the information each look actually reached
# (alpha spending at the observed fractions; the planned looks ahead keep their fractions), then rpact's
# conditional power and repeated CI for a survival dataset at those looks. Complements
# group_sequential.R, whose designs keep the planned fractions even when the events overrun them.
# Writes group_sequential_observed.json. Rerun from the repo root:
#     Rscript tests/domain/reference/group_sequential_observed.R
suppressPackageStartupMessages({library(rpact); library(jsonlite)})
setLogLevel("DISABLED")
out <- list()
planned <- 24
for (futility in c(FALSE, TRUE)) {
  for (stage in list(list(events = c(12), z = c(-1.8)), list(events = c(12, 19), z = c(-1.5, -2.2)),
                     list(events = c(9, 16), z = c(-0.4, -1.1)))) {
    observed <- stage$events / planned
    rates <- c(observed, c(0.75, 1)[c(0.75, 1) > max(observed)])
    args <- list(kMax = length(rates), alpha = 0.025, sided = 1, typeOfDesign = "asOF",
                 informationRates = rates)
    if (futility) args <- c(args, list(typeBetaSpending = "bsOF", beta = 0.2, bindingFutility = FALSE))
    design <- do.call(getDesignGroupSequential, args)
    data <- getDataset(overallEvents = stage$events, overallLogRanks = stage$z,
                       overallAllocationRatios = rep(2.5, length(stage$events)))
    s <- length(stage$events)
    n_planned <- diff(c(stage$events[s], rates[(s + 1):length(rates)] * planned))
    for (theta in list(0.55, NA, 1)) {
      res <- getAnalysisResults(design, data, directionUpper = FALSE, thetaH1 = theta,
                                nPlanned = n_planned, allocationRatioPlanned = 2.5)
      out[[length(out) + 1]] <- list(
        futility = futility, events = stage$events, logranks = stage$z, information = rates,
        critical_values = design$criticalValues, futility_bounds = design$futilityBounds,
        theta_h1 = if (is.na(theta)) "observed" else theta, theta_h1_used = res$thetaH1,
        conditional_power = res$conditionalPower[length(rates)],
        rci_lower = res$repeatedConfidenceIntervalLowerBounds[s],
        rci_upper = res$repeatedConfidenceIntervalUpperBounds[s])
    }
  }
}
write_json(list(generator = "tests/domain/reference/group_sequential_observed.R",
                rpact_version = as.character(packageVersion("rpact")), planned_events = planned,
                allocation_ratio = 2.5, cases = out),
           "tests/domain/reference/group_sequential_observed.json", auto_unbox = TRUE, digits = NA,
           pretty = TRUE, null = "null", na = "null")
