{$kycgate_html nofilter}
