//! The shared behavioural suite, driven by async-std's executor.

mcp_testsuite::suite!(mcp_async_std::AsyncStdRuntime, async_std::task::block_on);
