# Reference Clopper-Pearson intervals for tests/domain/test_ascites.py: R binom.test (exact).
# Run: cd tests/domain/reference && Rscript ascites.R   -> ascites_binom.csv
cases <- data.frame(x = c(0, 1, 3, 7, 10, 12), n = c(10, 10, 8, 20, 10, 50))
res <- t(mapply(function(x, n) binom.test(x, n, conf.level = 0.95)$conf.int, cases$x, cases$n))
cases$ci_lower <- res[, 1]
cases$ci_upper <- res[, 2]
write.csv(cases, "ascites_binom.csv", row.names = FALSE)
