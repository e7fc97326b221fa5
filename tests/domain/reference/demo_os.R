# The demo trial's overall survival (UC-MSC vs Placebo, Placebo = reference), read from demo_os_input.csv
# (written by demo_os.py from the simulator, seed 2026): R's numbers for every statistic the page shows.
source("_common.R")
d <- read.csv("demo_os_input.csv", stringsAsFactors = FALSE)
write_fixtures(d, "demo_os", c("Placebo", "UC-MSC"), c(28, 90, 168, 336), c(180, 365))
