# survival::veteran with the four cell types as groups (squamous = reference): k-1 = 3 df in the
# log-rank test and three Cox rows.
source("_common.R")
v <- survival::veteran
d <- data.frame(usubjid = sprintf("V%03d", seq_len(nrow(v))), time_days = v$time, event = v$status,
                arm = as.character(v$celltype))
write_fixtures(d, "veteran", c("squamous", "smallcell", "adeno", "large"), c(30, 90, 180), c(180))
