"""One module per dashboard page: each turns the global filters into cards (charts, tables,
notes) by asking the library through `funnelmetrics.web.service`."""
