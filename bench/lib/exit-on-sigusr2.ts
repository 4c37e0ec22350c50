// Preloaded (node --import) into a profiled app: SIGUSR2 ends it with
// process.exit(), which writes the --cpu-prof profile. Nest's own SIGTERM
// handling ends by re-raising the signal, and a process killed by a signal
// writes no profile.
process.on('SIGUSR2', () => process.exit(0));
