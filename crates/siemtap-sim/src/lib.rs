//! siemtap-sim
