/* yaml_baseline: parses every file given with libyaml's event parser and
 * does nothing else — the floor that `wsr validate` is compared against in
 * bench/plan.sh (how much do the node tree, schema and checks cost?). */
#include <stdio.h>

#include <yaml.h>

int main(int argc, char **argv)
{
	unsigned long events = 0;
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f)
			return 1;
		yaml_parser_t p;
		yaml_parser_initialize(&p);
		yaml_parser_set_input_file(&p, f);
		for (;;) {
			yaml_event_t e;
			if (!yaml_parser_parse(&p, &e))
				return 1;
			int end = e.type == YAML_STREAM_END_EVENT;
			yaml_event_delete(&e);
			events++;
			if (end)
				break;
		}
		yaml_parser_delete(&p);
		fclose(f);
	}
	printf("%lu events\n", events);
	return 0;
}
