"""Voluntary registration (自愿注册): information a subject declares about itself, confirmed or rejected by the
competent department, each entry made with a truthfulness commitment and kept with its history."""
