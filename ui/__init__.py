"""The Streamlit face of finlib: cached services and data, the shared sidebar, charts and formatting."""
