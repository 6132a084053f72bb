/* cmd_version: `wsr version` prints wsr's version and the libraries it runs on. */
#include <stdio.h>
#include <string.h>

#include <cJSON.h>
#include <curl/curl.h>
#include <yaml.h>

#include "reconciler/commands.h"

int wsr_cmd_version(int argc, char **argv)
{
	int json = argc > 1 && strcmp(argv[1], "--json") == 0;
	if (json)
		printf(
		    "{\"version\":\"%s\",\"libyaml\":\"%s\",\"cjson\":\"%s\",\"libcurl\":\"%s\"}\n",
		    WSR_VERSION, yaml_get_version_string(), cJSON_Version(),
		    curl_version_info(CURLVERSION_NOW)->version);
	else
		printf("wsr %s (libyaml %s, cJSON %s, libcurl %s)\n", WSR_VERSION,
		       yaml_get_version_string(), cJSON_Version(),
		       curl_version_info(CURLVERSION_NOW)->version);
	return 0;
}
